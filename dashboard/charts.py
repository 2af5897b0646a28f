"""Plotly figures from frames: pure functions, no streamlit, so they are testable and reusable in reports.

Every axis names its unit; money axes name their currency. Labels arrive already translated.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

HEIGHT = 400


def _floats(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(**{c: frame[c].astype(float) for c in columns if c in frame})


def spend_trend(frame: pd.DataFrame, anomalies: pd.DataFrame, labels: dict) -> go.Figure:
    """Daily billed cost stacked by cost kind, with anomaly starts marked."""
    fig = px.bar(_floats(frame, "billed_cost"), x="day", y="billed_cost", color="cost_kind",
                 labels={"day": labels["day"], "billed_cost": labels["money"], "cost_kind": labels["cost_kind"]})
    for _, row in anomalies.iterrows():
        fig.add_vline(x=pd.Timestamp(row["start_at"]).timestamp() * 1000, line_dash="dot",
                      line_color="red" if row["severity"] == "critical" else "orange")
    if len(anomalies):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line={"dash": "dot", "color": "red"},
                                 name=labels["anomaly"]))
    return fig.update_layout(height=HEIGHT, barmode="stack", legend_title_text=labels["cost_kind"])


def drilldown(frame: pd.DataFrame, labels: dict) -> go.Figure:
    """Sunburst department -> team -> agent -> model of billed cost (positive amounts only: a credit has no
    area)."""
    positive = _floats(frame, "billed_cost")
    positive = positive[positive["billed_cost"] > 0]
    fig = px.sunburst(positive, path=["department", "team", "agent", "model"], values="billed_cost",
                      labels={"billed_cost": labels["money"]})
    fig.update_traces(hovertemplate="%{label}<br>" + labels["money"] + ": %{value:,.2f}<extra></extra>")
    return fig.update_layout(height=560, margin={"t": 10, "l": 10, "r": 10, "b": 10})


def lines(frame: pd.DataFrame, x: str, y: str, color: str | None, labels: dict) -> go.Figure:
    fig = px.line(_floats(frame, y), x=x, y=y, color=color, labels=labels)
    return fig.update_layout(height=HEIGHT)


def bars(frame: pd.DataFrame, x: str, y: str, labels: dict, color: str | None = None,
         barmode: str = "group") -> go.Figure:
    fig = px.bar(_floats(frame, y), x=x, y=y, color=color, labels=labels, barmode=barmode)
    return fig.update_layout(height=HEIGHT)


def band(points: pd.DataFrame, labels: dict) -> go.Figure:
    """A series with its expected band and the flagged points."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=points["ts"], y=points["upper_band"], line={"width": 0}, showlegend=False,
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=points["ts"], y=points["lower_band"], fill="tonexty", line={"width": 0},
                             fillcolor="rgba(100,149,237,0.25)", name=labels["band"]))
    fig.add_trace(go.Scatter(x=points["ts"], y=points["expected"], name=labels["expected"],
                             line={"dash": "dash", "color": "royalblue"}))
    fig.add_trace(go.Scatter(x=points["ts"], y=points["actual"], name=labels["actual"], line={"color": "black"}))
    flagged = points[points["flagged"]]
    fig.add_trace(go.Scatter(x=flagged["ts"], y=flagged["actual"], mode="markers", name=labels["flagged"],
                             marker={"color": "red", "size": 9}))
    return fig.update_layout(height=HEIGHT, xaxis_title=labels["time"], yaxis_title=labels["value"])


def timeline(frame: pd.DataFrame, labels: dict) -> go.Figure:
    shown = frame.assign(end=frame["end_at"].fillna(pd.Timestamp.now(tz=None)), label=frame["scope_value"]
                         .where(frame["scope_value"] != "", "all"))
    fig = px.timeline(shown, x_start="start_at", x_end="end", y="metric", color="severity", hover_name="label",
                      labels={"metric": labels["metric"], "severity": labels["severity"]},
                      color_discrete_map={"critical": "red", "warning": "orange", "info": "steelblue"})
    return fig.update_layout(height=max(260, 40 * shown["metric"].nunique() + 120), xaxis_title=labels["time"])


def budget_bars(frame: pd.DataFrame, labels: dict) -> go.Figure:
    shown = _floats(frame, "amount", "actual", "forecast")
    fig = go.Figure()
    fig.add_trace(go.Bar(x=shown["budget_name"], y=shown["actual"], name=labels["actual"]))
    fig.add_trace(go.Bar(x=shown["budget_name"], y=shown["forecast"], name=labels["forecast"], opacity=0.6))
    fig.add_trace(go.Scatter(x=shown["budget_name"], y=shown["amount"], mode="markers", name=labels["budget"],
                             marker={"symbol": "line-ew-open", "size": 40, "color": "red", "line": {"width": 3}}))
    return fig.update_layout(height=HEIGHT, barmode="overlay", yaxis_title=labels["money"])
