"""Overview: month-to-date spend against budget and forecast, unit cost, the trend with anomalies, top movers and
how fresh the data is."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui

ctx = ui.context()
r, t, cur = ctx.reader, ctx.t, ctx.currency
st.title(t("page.overview"))
fresh = data.freshness(r)
st.caption(t("overview.as_of", requests=fresh.get("requests_until", "–"), bill=fresh.get("bill_until", "–"),
             load=fresh.get("last_load", "–"), published=fresh["published_at"]))

if data.fx_missing(r, cur):
    st.warning(t("overview.fx_missing", n=data.fx_missing(r, cur), currency=cur))
totals = data.spend_totals(r, cur)
usage = data.usage_totals(r)
units = data.unit_costs(r, cur, "team")     # the same unit-cost definition as the Unit economics page
unit_cost, unit_requests, unit_tokens = (float(units["cost"].astype(float).sum()), units["requests"].sum(),
                                         units["tokens"].sum())
budgets = data.current_budgets(r)
forecasts = data.forecasts(r)
runs = data.agent_run_totals(r, cur)

a, b, c, d = st.columns(4)
a.metric(ctx.label("overview.mtd"), ui.amount(totals["month_to_date"]), help=t("overview.mtd_help"))
b.metric(ctx.label("overview.total"), ui.amount(totals["total"]))
c.metric(t("overview.requests"), ui.count(usage["requests"]))
d.metric(ctx.label("overview.per_request"), ui.amount(unit_cost / unit_requests if unit_requests else None, 4),
         help=t("overview.unit_help"))
e, f, g, h = st.columns(4)
e.metric(ctx.label("overview.per_1k_tokens"),
         ui.amount(1000 * unit_cost / unit_tokens if unit_tokens else None, 4), help=t("overview.unit_help"))
if runs is not None and runs["runs"]:
    f.metric(ctx.label("overview.per_run"), ui.amount(float(runs["cost"]) / runs["runs"], 4))
else:
    f.metric(ctx.label("overview.per_run"), "–", help=t("overview.per_run_missing"))
company = forecasts[(forecasts["scope_kind"] == "all") & (forecasts["currency"] == cur)] if len(forecasts) else \
    forecasts
if len(company):
    latest = company.iloc[0]
    g.metric(ctx.label("overview.forecast"), ui.amount(latest["forecast"]),
             help=t("overview.forecast_interval", low=ctx.money(latest["lower_80"]), high=ctx.money(latest["upper_80"])))
else:
    g.metric(ctx.label("overview.forecast"), "–", help=t("overview.forecast_missing"))
in_currency = budgets[budgets["currency"] == cur] if len(budgets) else budgets
if len(in_currency):
    used = in_currency["actual"].astype(float).sum() / in_currency["amount"].astype(float).sum()
    h.metric(t("overview.budget_used"), f"{100 * used:,.1f} %",
             help=t("overview.budget_used_help", n=len(in_currency)))
else:
    h.metric(t("overview.budget_used"), "–", help=t("overview.budget_missing"))

st.subheader(t("overview.trend"))
trend = data.spend_by_day(r, cur)
if len(trend):
    trend["cost_kind"] = trend["cost_kind"].map(lambda kind: t(f"kind.{kind}", default=kind))
    found = data.anomalies(r)
    marked = found[(found["metric"] == "spend") & (found["severity"] != "info")] if len(found) else found
    st.plotly_chart(charts.spend_trend(trend, marked, {
        "day": t("axis.day"), "money": t("axis.money", currency=cur), "cost_kind": t("col.cost_kind"),
        "anomaly": t("overview.anomaly_start")}), width="stretch")
else:
    ui.empty(ctx, "what.spend", "costwarden ingest && costwarden build")

st.subheader(t("overview.movers"))
movers = data.top_movers(r, cur)
if len(movers):
    ui.table(ctx, movers, ("recent", "previous", "change"))
    st.caption(t("overview.movers_help", currency=cur))
else:
    ui.empty(ctx, "what.spend", "costwarden ingest && costwarden build")
