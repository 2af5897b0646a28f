"""Anomalies: the list and timeline, the series with its expected band, the root cause, and feedback that the
next detection run respects."""

from __future__ import annotations

import json

import streamlit as st

from costwarden.errors import CostwardenError

from dashboard import charts, data, ui, writeback

ctx = ui.context()
r, t = ctx.reader, ctx.t
st.title(t("page.anomalies"))
found = data.anomalies(r)
if found.empty:
    ui.empty(ctx, "what.anomalies", "costwarden detect")
    st.stop()

wb = writeback.writeback_path(data.warehouse_path(), ctx.config.dashboard.writeback_file)
writeback.overlay_pending(found, wb, "analytics.anomaly_feedback", {"verdict": "verdict", "verdict_by": "user_name"})

a, b, c = st.columns(3)
a.metric(t("anomalies.open"), ui.count((found["status"] == "open").sum()))
b.metric(t("anomalies.critical"), ui.count((found["severity"] == "critical").sum()))
money_rows = found[found["currency"].notna()]
c.metric(t("anomalies.impact"), ", ".join(ui.money(v, k) for k, v in
                                         money_rows.groupby("currency")["impact_cost"].sum().items()) or "–")
st.plotly_chart(charts.timeline(found, {"metric": t("col.metric"), "severity": t("col.severity"),
                                        "time": t("axis.time_utc")}), width="stretch")
ui.table(ctx, found[["anomaly_id", "metric", "scope_kind", "scope_value", "start_at", "end_at", "status", "severity",
                     "impact_cost", "currency", "impact_pct", "root_cause", "verdict"]], ("impact_cost",))

choice = st.selectbox(t("anomalies.pick"), found["anomaly_id"].tolist(), key="anomaly_pick",
                      format_func=lambda i: f"{i} · {found.set_index('anomaly_id').loc[i, 'root_cause'] or ''}")
row = found.set_index("anomaly_id").loc[choice]
st.subheader(t("anomalies.series", metric=row["metric"], scope=row["scope_value"] or t("scope.all")))
points = data.anomaly_points(r, row["series_key"])
if len(points):
    st.plotly_chart(charts.band(points, {"band": t("anomalies.band"), "expected": t("anomalies.expected"),
                                         "actual": t("anomalies.actual"), "flagged": t("anomalies.flagged"),
                                         "time": t("axis.time_utc"),
                                         "value": t("anomalies.value", metric=row["metric"],
                                                    unit=row["currency"] or "")}),
                    width="stretch")
else:
    st.caption(t("anomalies.no_points"))
st.markdown(f"**{t('anomalies.root_cause')}:** {row['root_cause'] or '–'}")
try:
    drivers = json.loads(row["drivers"]) if row["drivers"] else []
except (TypeError, ValueError):
    drivers = []
if drivers:
    import pandas as pd

    ui.table(ctx, pd.DataFrame(drivers))
st.caption(t("anomalies.verdict_now", verdict=row["verdict"] or t("anomalies.no_verdict")))

if ctx.viewer.can_write_back:
    note = st.text_input(t("anomalies.note"), key="anomaly_note")
    buttons = st.columns(3)
    for column, verdict in zip(buttons, ("expected", "not_anomaly", "planned")):
        if column.button(t(f"anomalies.verdict.{verdict}"), key=f"verdict_{verdict}"):
            if not data.visible_anomaly(r, choice):        # never write about what the viewer cannot see
                st.error(t("anomalies.not_visible"))
            else:
                try:
                    writeback.record_feedback(wb, choice, verdict, ctx.viewer.name, note or None,
                                              anomaly={"anomaly_id": choice, **row.to_dict()})
                except CostwardenError as exc:
                    st.error(str(exc))
                else:
                    ctx.audit("feedback", "anomalies")
                    st.rerun()
else:
    st.caption(t("readonly"))
