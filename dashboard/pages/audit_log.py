"""Audit log (admins only): who viewed which page with which scope and filters, and every export with its size."""

from __future__ import annotations

import streamlit as st

from dashboard import data, ui, writeback

ctx = ui.context()
t = ctx.t
st.title(t("page.audit_log"))
if not ctx.viewer.can_read_audit:
    st.error(t("audit.admins_only"))
    st.stop()
path = writeback.writeback_path(data.warehouse_path(), ctx.config.dashboard.writeback_file)
events = writeback.read(path, "select occurred_at, user_name, role, action, page, scope, export_format, export_rows, "
                              "export_bytes, snapshot, filters from audit.dashboard_events order by occurred_at desc limit 500")
if events.empty:
    st.info(t("audit.empty"))
else:
    ui.table(ctx, events)
    st.caption(t("audit.help"))
