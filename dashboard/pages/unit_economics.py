"""Unit economics: cost per request, per 1K tokens, per agent run and per successful run, over time, by model or
agent; and the cost of waste (failed runs, retries, time-outs)."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui

ctx = ui.context()
r, t, cur = ctx.reader, ctx.t, ctx.currency
st.title(t("page.unit_economics"))
by = st.radio(t("unit.by"), ["model", "agent", "team"], horizontal=True, format_func=lambda c: t(f"col.{c}"),
              key="unit_by")
frame = data.unit_costs(r, cur, by)
if frame.empty:
    ui.empty(ctx, "what.spend", "costwarden ingest && costwarden build")
    st.stop()

frame = frame.assign(cost=frame["cost"].astype(float))
totals = frame.groupby(by, as_index=False).sum(numeric_only=True)
totals["cost_per_request"] = totals["cost"] / totals["requests"].where(totals["requests"] > 0)
totals["cost_per_1k_tokens"] = 1000 * totals["cost"] / totals["tokens"].where(totals["tokens"] > 0)
has_runs = "runs" in totals
if has_runs:
    totals["cost_per_run"] = totals["cost"] / totals["runs"].where(totals["runs"] > 0)
    totals["cost_per_successful_run"] = totals["cost"] / totals["successful_runs"].where(totals["successful_runs"] > 0)

all_cost, all_requests, all_tokens = frame["cost"].sum(), frame["requests"].sum(), frame["tokens"].sum()
a, b, c, d = st.columns(4)
a.metric(ctx.label("overview.per_request"), ui.amount(all_cost / all_requests if all_requests else None, 4))
b.metric(ctx.label("overview.per_1k_tokens"), ui.amount(1000 * all_cost / all_tokens if all_tokens else None, 4))
if has_runs and frame["runs"].sum():
    c.metric(ctx.label("overview.per_run"), ui.amount(all_cost / frame["runs"].sum(), 4))
    d.metric(ctx.label("unit.per_successful_run"), ui.amount(all_cost / frame["successful_runs"].sum(), 4)
             if frame["successful_runs"].sum() else "–")
else:
    c.metric(ctx.label("overview.per_run"), "–", help=t("overview.per_run_missing"))
    d.metric(ctx.label("unit.per_successful_run"), "–", help=t("overview.per_run_missing"))

daily = frame.groupby(["day", by], as_index=False)[["cost", "requests"]].sum()
daily["cost_per_request"] = daily["cost"] / daily["requests"].where(daily["requests"] > 0)
st.subheader(t("unit.trend"))
st.plotly_chart(charts.lines(daily, "day", "cost_per_request", by, {
    "day": t("axis.day"), "cost_per_request": t("axis.per_request", currency=cur), by: t(f"col.{by}")}),
    width="stretch")
st.subheader(t("unit.table"))
ui.table(ctx, totals.sort_values("cost", ascending=False),
         ("cost", "cost_per_request", "cost_per_1k_tokens", "cost_per_run", "cost_per_successful_run", "waste_cost"))

st.subheader(t("unit.waste"))
waste = data.waste(r, cur)
if waste.empty:
    ui.empty(ctx, "what.agent_runs", "costwarden build")
else:
    st.metric(ctx.label("unit.waste_total"), ui.amount(waste["waste_cost"].astype(float).sum()))
    ui.table(ctx, waste, ("cost", "waste_cost"))
