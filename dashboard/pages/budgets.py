"""Budgets and forecasts: each budget's actual and forecast against its amount, thresholds crossed, runway."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui

ctx = ui.context()
r, t = ctx.reader, ctx.t
st.title(t("page.budgets"))
budgets = data.current_budgets(r)
if budgets.empty:
    ui.empty(ctx, "what.budgets", "costwarden forecast")
else:
    for currency, group in budgets.groupby("currency"):
        st.plotly_chart(charts.budget_bars(group, {"actual": t("budgets.actual"), "forecast": t("budgets.forecast"),
                                                   "budget": t("budgets.amount"),
                                                   "money": t("axis.money", currency=currency)}),
                        width="stretch")
    over = budgets[budgets["pct_forecast"].fillna(0) >= 100]
    st.metric(t("budgets.over"), ui.count(len(over)))
    ui.table(ctx, budgets[["budget_name", "scope_kind", "scope_value", "period_start", "period_end", "currency",
                           "amount", "actual", "forecast", "forecast_lower_80", "forecast_upper_80", "pct_actual",
                           "pct_forecast", "runway_date", "as_of"]],
             ("amount", "actual", "forecast", "forecast_lower_80", "forecast_upper_80"))
    st.caption(t("budgets.runway_help"))

st.subheader(t("budgets.crossings"))
crossings = data.budget_crossings(r)
if crossings.empty:
    st.caption(t("budgets.no_crossings"))
else:
    ui.table(ctx, crossings, ("amount", "value_at_crossing"))

st.subheader(t("budgets.forecasts"))
found = data.forecasts(r)
if found.empty:
    ui.empty(ctx, "what.forecasts", "costwarden forecast")
else:
    ui.table(ctx, found, ("actual_to_date", "forecast", "lower_80", "upper_80"))
    st.caption(t("budgets.interval_help"))
