"""Recommendations: what to change, what it saves (with an interval), the risk, and approve / reject."""

from __future__ import annotations

import streamlit as st

from costwarden.errors import CostwardenError

from dashboard import data, ui, writeback

ctx = ui.context()
r, t = ctx.reader, ctx.t
st.title(t("page.recommendations"))
found = data.recommendations(r)
if found.empty:
    ui.empty(ctx, "what.recommendations", "costwarden recommend")
    st.stop()

wb = writeback.writeback_path(data.warehouse_path(), ctx.config.dashboard.writeback_file)
writeback.overlay_pending(found, wb, "analytics.recommendation_decisions",
                          {"state": "action", "decided_by": "user_name"})

for currency, group in found.groupby("currency"):
    st.metric(t("recs.saving", currency=currency), ui.amount(group["monthly_saving"].astype(float).sum()))
ui.table(ctx, found[["rec_id", "kind", "scope_kind", "scope_value", "current_setting", "proposed_setting",
                     "monthly_saving", "saving_low_80", "saving_high_80", "currency", "quality_change",
                     "p95_latency_change_ms", "risk", "state"]],
         ("monthly_saving", "saving_low_80", "saving_high_80"))

choice = st.selectbox(t("recs.pick"), found["rec_id"].tolist(), key="rec_pick")
row = found.set_index("rec_id").loc[choice]
st.markdown(f"**{t('recs.rationale')}:** {row['rationale']}")
st.code(row["change"])
st.caption(t("recs.state_now", state=row["state"] or "proposed"))
if ctx.viewer.can_write_back:
    reason = st.text_input(t("recs.reason"), key="rec_reason")
    left, right = st.columns(2)
    for column, action in ((left, "approved"), (right, "rejected")):
        if column.button(t(f"recs.{action}"), key=f"rec_{action}"):
            if not data.visible_recommendation(r, choice):
                st.error(t("anomalies.not_visible"))
            else:
                try:
                    writeback.record_decision(wb, choice, action, ctx.viewer.name, reason or None,
                                              recommendation={"rec_id": choice, **row.to_dict()})
                except CostwardenError as exc:      # e.g. a rejection without a reason, a step not allowed
                    st.error(str(exc))
                else:
                    ctx.audit("decision", "recommendations")
                    st.rerun()
else:
    st.caption(t("readonly"))
