"""Data health: recent loads, quarantined rows by reason, unpriced models, unmapped principals, attribution
coverage, and alert delivery failures."""

from __future__ import annotations

import streamlit as st

from dashboard import data, ui

ctx = ui.context()
r, t = ctx.reader, ctx.t
st.title(t("page.data_health"))

st.subheader(t("health.coverage"))
coverage = data.coverage(r)
if len(coverage):
    for _, row in coverage.iterrows():
        st.metric(t("health.coverage_metric", currency=row["billing_currency"]),
                  f"{row['coverage_pct']:.2f} %" if row["coverage_pct"] == row["coverage_pct"] else "–")
    ui.table(ctx, coverage, ("billed", "attributed", "unallocated", "idle", "shared"))
    st.caption(t("health.coverage_help"))
else:
    ui.empty(ctx, "what.spend", "costwarden ingest && costwarden build")

st.subheader(t("health.loads"))
if not ctx.viewer.all_scopes:
    st.caption(t("health.platform_only"))
else:
    st.caption(t("health.loads_help"))
    loads = data.recent_loads(r)
    if len(loads):
        ui.table(ctx, loads)
    else:
        ui.empty(ctx, "what.loads", "costwarden ingest")
    st.subheader(t("health.quarantine"))
    ui.problems_table(ctx, data.quarantine_summary(r), "health.no_quarantine")

st.subheader(t("health.unpriced"))
ui.problems_table(ctx, data.unpriced_models(r), "health.no_unpriced", "health.unpriced_help")

st.subheader(t("health.unmapped"))
ui.problems_table(ctx, data.unmapped_principals(r), "health.no_unmapped", "health.unmapped_help")

if ctx.viewer.all_scopes:
    st.subheader(t("health.delivery"))
    ui.problems_table(ctx, data.delivery_failures(r), "health.no_failures")
