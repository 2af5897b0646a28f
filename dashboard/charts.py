"""Plotly figures from frames: pure functions, no streamlit, so they are testable and reusable in reports."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go


def billed_by_period(frame: pd.DataFrame) -> go.Figure:
    currency = ", ".join(sorted(frame["billing_currency"].unique())) if len(frame) else "USD"
    fig = px.bar(frame.assign(billed_cost=frame["billed_cost"].astype(float)), x="billing_period", y="billed_cost",
                 color="service_category", labels={"billing_period": "Billing period",
                                                   "billed_cost": f"Billed cost ({currency})",
                                                   "service_category": "Service category"})
    return fig.update_layout(legend_title_text="Service category", height=420)


def requests_by_day(frame: pd.DataFrame) -> go.Figure:
    daily = frame.groupby(["day", "provider"], as_index=False)["requests"].sum()
    fig = px.line(daily, x="day", y="requests", color="provider",
                  labels={"day": "Day (UTC)", "requests": "Requests per day", "provider": "Provider"})
    return fig.update_layout(height=380)
