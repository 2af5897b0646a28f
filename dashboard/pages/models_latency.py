"""Models and latency: latency and time-to-first-token percentiles, jitter, error rate and cost per model version
side by side; the slowest, most expensive and most error-prone; the agents that slow their runs down."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui

ctx = ui.context()
r, t = ctx.reader, ctx.t
st.title(t("page.models_latency"))
models = data.performance(r, "model")
agents = data.performance(r, "agent")
if models.empty and agents.empty:
    if not ctx.viewer.all_scopes and r.has("performance_by_agent"):
        st.info(t("models.none_in_scope"))
    else:
        ui.empty(ctx, "what.performance", "costwarden build")
    st.stop()

if len(models):
    models = models.assign(version=models["model"] + " " + models["model_version"].fillna(""))
    a, b, c = st.columns(3)
    slowest = models.sort_values("p95_latency_ms", ascending=False).iloc[0]
    priciest = models.sort_values("cost_per_request", ascending=False).iloc[0]
    flakiest = models.sort_values("error_rate", ascending=False).iloc[0]
    a.metric(t("models.slowest"), slowest["version"], f"p95 {slowest['p95_latency_ms']:,.0f} ms", delta_color="off")
    b.metric(t("models.priciest"), priciest["version"], t("models.per_request_value",
             value=ui.money(priciest["cost_per_request"], "")), delta_color="off")
    c.metric(t("models.flakiest"), flakiest["version"], f"{100 * flakiest['error_rate']:.2f} %", delta_color="off")
    st.subheader(t("models.side_by_side"))
    ui.table(ctx, models.drop(columns=["version"]), ("cost", "cost_per_request"))
    st.caption(t("models.percentile_note"))
    st.plotly_chart(charts.bars(models, "version", "p95_latency_ms", {
        "version": t("col.model_version"), "p95_latency_ms": t("axis.latency_ms", p="p95")}),
        width="stretch")
    trend = data.performance_by_day(r)
    if len(trend):
        st.plotly_chart(charts.lines(trend, "day", "p95_latency_ms", "model", {
            "day": t("axis.day"), "p95_latency_ms": t("axis.latency_ms", p="p95"), "model": t("col.model")}),
            width="stretch")
elif not ctx.viewer.all_scopes:
    st.caption(t("models.by_model_scoped"))

st.subheader(t("models.bottlenecks"))
if len(agents):
    ui.table(ctx, data.bottleneck_agents(r), ("cost", "cost_per_request"))
    st.caption(t("models.bottleneck_help"))
else:
    ui.empty(ctx, "what.performance", "costwarden build")
