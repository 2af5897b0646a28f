"""Overview: billed cost by month and request volume, with the data's freshness."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data

st.title("Overview")
as_of = data.data_as_of().iloc[0]
st.caption(f"Data as of: requests until {as_of['requests_until']}, bill until {as_of['bill_until']} (UTC); "
           f"last load {as_of['last_load']}")
billed = data.billed_by_period()
requests = data.requests_by_day()
left, middle, right = st.columns(3)
left.metric("Billed cost, all periods", f"{billed['billed_cost'].sum():,.2f} "
            f"{'/'.join(sorted(billed['billing_currency'].unique())) or 'USD'}")
middle.metric("Requests", f"{int(requests['requests'].sum()):,}")
right.metric("Models", f"{requests['model'].nunique()}")
if len(billed):
    st.plotly_chart(charts.billed_by_period(billed), use_container_width=True)
else:
    st.info("No billing data yet: load a CUR 2.0, legacy CUR or FOCUS export with `costwarden ingest`.")
if len(requests):
    st.plotly_chart(charts.requests_by_day(requests), use_container_width=True)
else:
    st.info("No request logs yet: load Bedrock, LiteLLM, OpenTelemetry or generic logs with `costwarden ingest`.")
