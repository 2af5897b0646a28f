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
    quarantine = data.quarantine_summary(r)
    if len(quarantine):
        ui.table(ctx, quarantine)
    else:
        st.success(t("health.no_quarantine"))

st.subheader(t("health.unpriced"))
unpriced = data.unpriced_models(r)
if len(unpriced):
    ui.table(ctx, unpriced)
    st.caption(t("health.unpriced_help"))
else:
    st.success(t("health.no_unpriced"))

st.subheader(t("health.unmapped"))
unmapped = data.unmapped_principals(r)
if len(unmapped):
    ui.table(ctx, unmapped)
    st.caption(t("health.unmapped_help"))
else:
    st.success(t("health.no_unmapped"))

if ctx.viewer.all_scopes:
    st.subheader(t("health.delivery"))
    failures = data.delivery_failures(r)
    if len(failures):
        ui.table(ctx, failures)
    else:
        st.success(t("health.no_failures"))
