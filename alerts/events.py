"""What can be alerted on: anomaly, budget, data-health and latency events, as immutable values.

Each event names itself twice: `event_key` is its idempotency key (the same occurrence always yields the same key,
so a re-run never alerts twice) and `group_key` is its root cause (a storm with one cause becomes one message).
Detecting events is left to models/ and the marts; this module only describes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Union
from urllib.parse import urlencode

SEVERITIES = ("info", "warning", "critical")   # ascending; subscriptions gate on a minimum
Severity = Literal["info", "warning", "critical"]


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Scope:
    """Where an event belongs in the org; empty fields are "any" (a department-wide event has no team)."""

    department: str = ""
    team: str = ""
    agent: str = ""
    model: str = ""

    def items(self) -> list[tuple[str, str]]:
        return [(name, value) for name, value in (("department", self.department), ("team", self.team),
                                                  ("agent", self.agent), ("model", self.model)) if value]

    def key(self) -> str:
        return ",".join(f"{name}={value}" for name, value in self.items()) or "all"


@dataclass(frozen=True)
class Driver:
    """One contributor to an anomaly: what changed (e.g. "model=gpt-4o", "agent=triage") and its $ share."""

    name: str
    impact_usd: Decimal


@dataclass(frozen=True)
class AnomalyEvent:
    anomaly_id: str                      # stable across opened -> escalated -> resolved
    kind: Literal["opened", "escalated", "resolved"]
    scope: Scope
    series: str                          # what was measured, e.g. "cost_usd per day"
    start: datetime                      # when the anomaly began (UTC)
    detected_at: datetime                # when this state change was detected (UTC)
    expected_usd: Decimal
    actual_usd: Decimal
    impact_usd: Decimal                  # actual - expected over the anomaly so far
    impact_pct: Decimal
    severity: Severity
    drivers: tuple[Driver, ...] = ()     # largest first; messages show the top three
    root_cause: str = ""                 # shared cause from the detector ("price change: model=x"); groups storms
    dashboard_path: str = ""             # page for this anomaly; empty = the anomalies page filtered to it
    unit: str = "USD"                    # of expected / actual: USD for spend, else the metric ("requests", "ms")
    occurrence: int = 0                  # 1, 2, ... when a resolved anomaly reopens (its events are new events)
    end: datetime | None = None          # when it ended, for an anomaly first reported after it was over

    family = "anomaly"

    @property
    def event_type(self) -> str:
        return f"anomaly.{self.kind}"

    @property
    def event_key(self) -> str:
        # An escalation to the same severity twice is one event; warning -> critical -> warning are three.
        key = f"anomaly:{self.anomaly_id}:{self.kind}:{self.severity}"
        return f"{key}:{self.occurrence}" if self.occurrence else key

    @property
    def thread_key(self) -> str:
        return f"anomaly:{self.anomaly_id}"

    @property
    def group_key(self) -> str:
        # The detector writes "<effect>: <culprit>" ("volume: agent=x", "model_mix: agent=x"): one culprit is one
        # storm, however many series and effects it shows up in.
        cause = self.root_cause.split(": ", 1)[1] if ": " in self.root_cause else self.root_cause
        return f"cause:{cause}" if cause else self.thread_key

    def link_path(self) -> str:
        return self.dashboard_path or "/anomalies?" + urlencode({"anomaly_id": self.anomaly_id})


@dataclass(frozen=True)
class BudgetEvent:
    scope: Scope
    period: str                          # budget period, e.g. "2026-03" or "2026-Q1"
    threshold_pct: Decimal               # the threshold crossed, e.g. 80, 100
    basis: Literal["actual", "forecast"]  # spent so far, or forecast to be spent by the period end
    amount_usd: Decimal                  # actual or forecast spend
    budget_usd: Decimal
    detected_at: datetime
    severity: Severity = "warning"
    runway_date: date | None = None      # when spend reaches the budget at the current rate
    dashboard_path: str = ""

    family = "budget"

    @property
    def event_type(self) -> str:
        return f"budget.{self.basis}"

    @property
    def event_key(self) -> str:
        return f"budget:{self.scope.key()}:{self.period}:{self.basis}:{self.threshold_pct.normalize():f}"

    @property
    def thread_key(self) -> str:
        return f"budget:{self.scope.key()}:{self.period}"

    @property
    def group_key(self) -> str:
        return self.thread_key

    @property
    def impact_usd(self) -> Decimal:
        # For gates: the spend at stake. A "$ impact >= 1000" subscription ignores crossings on tiny budgets.
        return self.amount_usd

    @property
    def impact_pct(self) -> Decimal:
        return self.amount_usd / self.budget_usd * 100 if self.budget_usd else Decimal(0)

    def link_path(self) -> str:
        return self.dashboard_path or "/budgets?" + urlencode(self.scope.items())


HealthCheck = Literal["ingest_stale", "unpriced_models", "unallocated_share", "quarantined_rows"]


@dataclass(frozen=True)
class DataHealthEvent:
    check: HealthCheck
    subject: str                         # the source, model list or table the check is about
    value: Decimal                       # hours stale, models unpriced, % unallocated, rows quarantined
    threshold: Decimal
    detected_at: datetime
    severity: Severity = "warning"
    details: tuple[str, ...] = ()        # e.g. the unpriced model ids
    scope: Scope = field(default_factory=Scope)
    dashboard_path: str = "/data_health"

    family = "data_health"
    impact_usd = None                    # money gates do not apply to data health
    impact_pct = None

    @property
    def event_type(self) -> str:
        return f"data_health.{self.check}"

    @property
    def event_key(self) -> str:
        # One alert per check, subject and UTC day: a source stale for three days is reported each day.
        return f"health:{self.check}:{self.subject}:{self.detected_at.date().isoformat()}"

    @property
    def thread_key(self) -> str:
        return f"health:{self.check}:{self.subject}"

    @property
    def group_key(self) -> str:
        return f"health:{self.check}"

    def link_path(self) -> str:
        return self.dashboard_path


@dataclass(frozen=True)
class LatencyEvent:
    """A model's latency jitter (p99 / p50, the ratio in marts.performance_by_model) above its SLO for a window."""

    scope: Scope                         # at least the model
    provider: str
    window_start: datetime
    window_end: datetime
    jitter: Decimal                      # observed p99 / p50 latency in the window
    slo: Decimal                         # the model's jitter SLO: the highest acceptable p99 / p50
    detected_at: datetime
    severity: Severity = "warning"
    p50_ms: Decimal | None = None
    p99_ms: Decimal | None = None
    requests: int | None = None
    model_version: str = ""
    dashboard_path: str = ""

    family = "latency"
    impact_usd = None

    @property
    def impact_pct(self) -> Decimal:
        return (self.jitter - self.slo) / self.slo * 100 if self.slo else Decimal(0)

    @property
    def event_type(self) -> str:
        return "latency.jitter"

    @property
    def _model(self) -> str:
        return f"{self.scope.model}@{self.model_version}" if self.model_version else self.scope.model

    @property
    def event_key(self) -> str:
        return f"latency:{self.provider}:{self._model}:{self.window_start.isoformat()}"

    @property
    def thread_key(self) -> str:
        return f"latency:{self.provider}:{self._model}"

    @property
    def group_key(self) -> str:
        # Many models slowing down at once usually means one provider incident.
        return f"latency:{self.provider}"

    def link_path(self) -> str:
        return self.dashboard_path or "/latency?" + urlencode({"model": self.scope.model})


Event = Union[AnomalyEvent, BudgetEvent, DataHealthEvent, LatencyEvent]
