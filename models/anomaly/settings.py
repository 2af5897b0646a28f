"""The `[anomaly]` settings: which warehouse series `costwarden detect` judges, the calendar it knows, and the gates
that decide which anomalies page someone (detection itself is never gated: everything stays visible).

Scopes in gates and planned events are globs on the series key `metric|grain|scope`, e.g. `spend|day|team=growth`,
`*|*|agent=kb-answerer` or `*` (see docs/anomaly-detection.md).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Metric = Literal["spend", "requests", "tokens", "cost_per_request", "cost_per_1k_tokens", "cost_per_run",
                 "output_input_ratio", "cache_hit_rate", "error_rate", "p95_latency_ms", "jitter"]
ScopeKind = Literal["all", "department", "team", "agent", "model", "account"]
Grain = Literal["day", "hour"]
ALL_METRICS: tuple[str, ...] = Metric.__args__
ALL_SCOPES: tuple[str, ...] = ScopeKind.__args__


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GateSettings(_Strict):
    # Glob on the series key (metric|grain|scope) this gate applies to; the most specific matching glob wins.
    scope: str = Field(min_length=1)
    # Minimum |$ impact| (in the series' currency) for an anomaly to page; unset = no $ minimum.
    min_impact_usd: Decimal | None = None
    # Minimum |impact %| against the expected value; unset = no % minimum.
    min_impact_pct: float | None = None
    # "all": every minimum given must be met; "any": one is enough.
    require: Literal["all", "any"] = "all"


class PlannedEventSettings(_Strict):
    # A launch, migration or load test: anomalies overlapping [start, end] in its scope are kept but do not page.
    name: str = Field(min_length=1)
    # Glob on the series key, e.g. "*|*|team=growth" (default: every series).
    scope: str = "*"
    # Start and end (inclusive) as dates or UTC date-times.
    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # A date or a naive time is UTC; an offset is converted. Stored naive, like every warehouse timestamp.
        return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value

    @model_validator(mode="after")
    def _ordered(self) -> "PlannedEventSettings":
        if self.end < self.start:
            raise ValueError(f"planned event {self.name!r} ends before it starts")
        return self


class AnomalySettings(_Strict):
    # Public holidays (dates): the detector learns their effect instead of alerting on quiet days.
    holidays: list[date] = Field(default_factory=list)
    # Days of the month with their own learned effect (batch jobs, billing runs); negative counts from the end.
    month_start_days: list[int] = Field(default_factory=lambda: [1, 2, 3, -1])
    # Days of points a series needs before it can alert (before that anomalies are visible but never page).
    min_history_days: float = Field(default=28, ge=1)
    # Days of history read from the warehouse for each run (the detector re-judges them causally every run).
    lookback_days: int = Field(default=400, ge=14)
    # Metrics judged at daily grain.
    metrics: list[Metric] = Field(default_factory=lambda: list(ALL_METRICS))
    # Scopes each daily metric is cut by (account = cloud account id of the requests).
    scopes: list[ScopeKind] = Field(default_factory=lambda: list(ALL_SCOPES))
    # Metrics judged at hourly grain too (fast reaction to loops and outages); empty = no hourly series.
    hourly_metrics: list[Metric] = Field(default_factory=lambda: ["spend", "requests", "error_rate"])
    # Scopes of the hourly series (kept small: hourly series are many points each).
    hourly_scopes: list[ScopeKind] = Field(default_factory=lambda: ["all", "team", "agent"])
    # Series whose median requests per period is below this are not judged (a rate over a handful of calls is
    # noise); applied per grain: requests per day for daily series, per hour for hourly ones.
    min_requests_per_day: float = Field(default=5, ge=0)
    min_requests_per_hour: float = Field(default=20, ge=0)
    # Rates without a $ impact (error rate, latency, jitter, token mix, cache hit) need more volume: below this many
    # requests per period (median) one slow or failed call moves them by tens of percent.
    min_requests_for_rates: float = Field(default=100, ge=0)
    # p95 latency and jitter need more still: the p95 of 100 calls is the 5th slowest call.
    min_requests_for_latency: float = Field(default=500, ge=0)
    # Default gate for money-valued anomalies (spend, requests, tokens and unit costs carry a $ impact).
    min_impact_usd: Decimal = Field(default=Decimal("25"), ge=0)
    min_impact_pct: float = Field(default=20.0, ge=0)
    # Default gate for series without a $ impact (error rate, latency, jitter): % change only. (Token mix and
    # cache-hit series carry the $ of their effect from the root-cause decomposition and use the $ gate.)
    rate_min_impact_pct: float = Field(default=50.0, ge=0)
    # ... and a minimum absolute change per such metric, so a rate moving from ~0 to a little (an infinite %)
    # does not page: error_rate and cache_hit_rate as fractions, output_input_ratio as a ratio, latency in ms.
    rate_min_change: dict[str, float] = Field(default_factory=lambda: {
        "error_rate": 0.02, "cache_hit_rate": 0.10, "output_input_ratio": 0.10, "p95_latency_ms": 1000.0,
        "jitter": 1.0})
    # An error-rate anomaly pages only with at least this many extra failed calls over its interval (a few errors
    # on a quiet day are a large rate change and nothing else).
    min_extra_errors: int = Field(default=10, ge=0)
    # p95 latency and jitter page only when the change lasts at least this many periods: one slow day is a handful
    # of slow calls at the tail, and the p95 of a day swings by +70-150% on ordinary traffic. (A latency or jitter
    # fall, and an error-rate fall, never page: they are good news; they stay visible.)
    latency_min_periods: int = Field(default=2, ge=1)
    # A unit-cost or mix change (price, model mix, token mix, cache hit) that has lasted this many periods is a new
    # run rate: it goes on costing until someone acts, so its $ gate is met by its impact projected over
    # `run_rate_days` (its $ per period so far times that many days) when that is larger than the impact so far.
    run_rate_min_periods: int = Field(default=3, ge=1)
    run_rate_days: float = Field(default=30, ge=0)
    # Settling period: for this many days after a series could first alert, its seasonality and trend rest on a few
    # samples per weekday (a new agent ramping up looks like a level shift), so it pages only on a huge change ...
    settling_days: float = Field(default=14, ge=0)
    # ... of at least this |impact %| (300: four times the expected value, or almost nothing of it).
    settling_min_impact_pct: float = Field(default=300.0, ge=0)
    # Per-scope gates overriding the defaults.
    gates: list[GateSettings] = Field(default_factory=list)
    # Announced events whose anomalies must not page.
    planned_events: list[PlannedEventSettings] = Field(default_factory=list)
