"""Reports and exports: the chargeback of a month for the viewer's scope (and the page filters), as CSV, Excel or
FOCUS; every download is written to the audit log with its row count and size."""

from __future__ import annotations

import streamlit as st

from dashboard import data, exports, ui

ctx = ui.context()
r, t = ctx.reader, ctx.t
st.title(t("page.reports"))
months = data.months(r)
if not months:
    ui.empty(ctx, "what.spend", "costwarden ingest && costwarden build")
    st.stop()
month = st.selectbox(t("reports.month"), months, key="report_month")
lines = data.chargeback(r, month)
st.caption(t("reports.scope", scope=t("scope.all") if ctx.viewer.all_scopes else ctx.viewer.scope_label(),
             rows=ui.count(len(lines))))
for currency, group in lines.groupby("billing_currency"):
    st.metric(t("reports.total", month=month, currency=currency), ui.amount(group["billed_cost"].astype(float).sum()))
ui.table(ctx, lines.head(200), exports.MONEY)
if len(lines) > 200:
    st.caption(t("reports.preview", n=200))

if not ctx.viewer.can_export:
    st.caption(t("reports.no_export"))
    st.stop()
files = {
    "csv": (exports.to_csv(lines), "text/csv", f"chargeback-{month}.csv"),
    "xlsx": (exports.to_xlsx(lines), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             f"chargeback-{month}.xlsx"),
    "focus": (exports.to_focus(lines), "text/csv", f"chargeback-{month}-focus.csv"),
}
for column, (kind, (content, mime, name)) in zip(st.columns(3), files.items()):
    column.download_button(t(f"reports.download.{kind}"), content, file_name=name, mime=mime, key=f"export_{kind}",
                           on_click=ctx.audit, args=("export", "reports"),
                           kwargs={"export_format": kind, "export_rows": len(lines), "export_bytes": len(content)})
