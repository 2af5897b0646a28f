"""Attribution: every billed unit by department -> team -> agent -> model, the reserved buckets explained, and the
estimate-vs-bill reconciliation."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui

ctx = ui.context()
r, t, cur = ctx.reader, ctx.t, ctx.currency
st.title(t("page.attribution"))
frame = data.attribution(r, cur)
if frame.empty:
    ui.empty(ctx, "what.attribution", "costwarden ingest && costwarden build")
    st.stop()

total = frame["billed_cost"].astype(float).sum()
st.metric(ctx.label("attribution.total"), ui.amount(total))
st.plotly_chart(charts.drilldown(frame, {"money": t("axis.money", currency=cur)}), width="stretch")
st.caption(t("attribution.drill_help"))

st.subheader(t("attribution.reserved"))
cols = st.columns(3)
for column, bucket in zip(cols, data.RESERVED):
    amount = frame.loc[frame["department"] == bucket, "billed_cost"].astype(float).sum()
    column.metric(f"`{bucket}` ({cur})", ui.amount(amount))
    column.caption(t(f"attribution.explain.{bucket.strip('_')}"))
if not ctx.viewer.all_scopes:
    st.caption(t("attribution.reserved_scoped"))

st.subheader(t("attribution.table"))
level = st.radio(t("attribution.level"), ["department", "team", "agent", "model"], horizontal=True,
                 format_func=lambda c: t(f"col.{c}"), key="attribution_level")
keys = {"department": ["department"], "team": ["department", "team"], "agent": ["department", "team", "agent"],
        "model": ["department", "team", "agent", "model"]}[level]
grouped = (frame.assign(billed_cost=frame["billed_cost"].astype(float),
                        effective_cost=frame["effective_cost"].astype(float))
           .groupby(keys, as_index=False)[["billed_cost", "effective_cost", "requests", "tokens"]].sum()
           .sort_values("billed_cost", ascending=False))
grouped["share_pct"] = (100 * grouped["billed_cost"] / total).round(2) if total else 0.0
ui.table(ctx, grouped, ("billed_cost", "effective_cost"))

unbilled = data.estimated_unbilled(r)
if unbilled["requests"]:
    st.info(t("attribution.unbilled", requests=ui.count(unbilled["requests"]),
              estimate=ui.money(unbilled["estimate_usd"], "USD")))

st.subheader(t("attribution.reconciliation"))
recon = data.reconciliation(r)
if recon.empty:
    st.caption(t("attribution.reconciliation_scoped") if not ctx.viewer.all_scopes else
               t("empty", what=t("what.reconciliation"), command="costwarden build"))
else:
    if "coverage" in recon:
        summary = (recon.assign(estimate=recon["estimate"].astype(float),
                                billed_cost=recon["billed_cost"].astype(float))
                   .groupby(["billing_currency", "coverage"], as_index=False)[["estimate", "billed_cost", "requests"]]
                   .sum())
        ui.table(ctx, summary, ("estimate", "billed_cost"))
        daily = recon[recon["coverage"] == "matched"].groupby("day", as_index=False)[["estimate", "billed_cost"]].sum()
        daily = daily.melt(id_vars="day", var_name="series", value_name="amount")
        daily["series"] = daily["series"].map({"estimate": t("attribution.estimate"), "billed_cost": t("attribution.billed")})
        st.plotly_chart(charts.lines(daily, "day", "amount", "series", {
            "day": t("axis.day"), "amount": t("axis.money", currency="USD"), "series": ""}), width="stretch")
        st.caption(t("attribution.reconciliation_help"))
    else:
        ui.table(ctx, recon)
