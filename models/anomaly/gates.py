"""Alert gates, planned events and feedback: which detected anomalies page someone (detection is separate).

Plain dataclasses; the config wiring lives elsewhere. An anomaly below its gate, inside a planned event of its scope,
or marked by a user stays visible with the reason, but does not page. Scopes are globs on series_id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Literal, Mapping

import pandas as pd

FEEDBACK_LABELS = ("expected", "not_anomaly", "planned")


@dataclass(frozen=True)
class Gate:
    # Minimum |impact| in the series' unit (USD for spend series); None: no $ minimum.
    min_impact: Decimal | None = None
    # Minimum |impact %| against the expected value; None: no % minimum.
    min_impact_pct: float | None = None
    # "all": every minimum given must be met; "any": one is enough.
    require: Literal["all", "any"] = "all"

    def passes(self, impact: float, impact_pct: float) -> bool:
        checks = []
        if self.min_impact is not None:
            checks.append(abs(impact) >= float(self.min_impact))
        if self.min_impact_pct is not None:
            checks.append(pd.notna(impact_pct) and abs(impact_pct) >= self.min_impact_pct)
        if not checks:
            return True
        return all(checks) if self.require == "all" else any(checks)


@dataclass(frozen=True)
class ScopedGate:
    # Glob on series_id, e.g. "team:search/*" or "*/spend/daily".
    scope: str
    gate: Gate


@dataclass(frozen=True)
class GatePolicy:
    default: Gate = field(default_factory=Gate)
    # The most specific matching scope (longest glob) wins; ties go to the first listed.
    overrides: tuple[ScopedGate, ...] = ()

    def gate_for(self, series_id: str) -> Gate:
        matches = [o for o in self.overrides if fnmatchcase(series_id, o.scope)]
        if not matches:
            return self.default
        return max(matches, key=lambda o: len(o.scope.replace("*", "")) * 1000 + len(o.scope)).gate


@dataclass(frozen=True)
class PlannedEvent:
    # A launch, migration or load test announced in the config: anomalies overlapping it in its scope do not page.
    name: str
    start: datetime
    end: datetime
    scope: str = "*"


def apply_gates(anomalies: pd.DataFrame, policy: GatePolicy, planned: tuple[PlannedEvent, ...] = (),
                feedback: Mapping[tuple[str, pd.Timestamp], str] | None = None) -> pd.DataFrame:
    """Add `gate_passed`, `suppressed_by` and `pages` to detector output.

    `feedback` maps (series_id, start) to a label in FEEDBACK_LABELS; the start of an anomaly is stable across runs
    because detection is causal, so a label given once keeps applying as the anomaly grows or reopens.
    """
    table = anomalies.copy()
    feedback = {(str(k[0]), pd.Timestamp(k[1])): v for k, v in (feedback or {}).items()}
    passed, reasons = [], []
    for row in table.itertuples(index=False):
        passed.append(policy.gate_for(str(row.series_id)).passes(row.impact, row.impact_pct))
        reason = ""
        label = feedback.get((str(row.series_id), pd.Timestamp(row.start)))
        if label is not None:
            reason = f"feedback: {label}"
        else:
            for event in planned:
                if fnmatchcase(str(row.series_id), event.scope) and _overlaps(row, event):
                    reason = f"planned: {event.name}"
                    break
        reasons.append(reason)
    table["gate_passed"] = pd.Series(passed, index=table.index, dtype=bool)
    table["suppressed_by"] = pd.Series(reasons, index=table.index, dtype=object)
    alerted = table["first_alert_at"].notna() if "first_alert_at" in table else True
    table["pages"] = alerted & table["gate_passed"] & (table["suppressed_by"] == "")
    return table


def _overlaps(row, event: PlannedEvent) -> bool:
    start, end = _utc(event.start), _utc(event.end)
    return pd.Timestamp(row.start) <= end and pd.Timestamp(row.end) >= start


def _utc(moment) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
