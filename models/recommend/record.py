"""One recommendation as the warehouse stores it (analytics.recommendations), with a stable id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal

KINDS = ("routing", "evaluate", "batch", "caching", "capacity")
RISKS = ("low", "medium", "high")

COLUMNS = ("rec_id", "kind", "scope_kind", "scope_value", "department", "team", "agent", "current_setting",
           "proposed_setting", "traffic_share", "currency", "monthly_saving", "saving_low_80", "saving_high_80",
           "quality_change", "quality_low_80", "quality_high_80", "evidence_count", "p95_latency_change_ms", "risk",
           "change", "rationale", "detail", "created_at")


def rec_id(kind: str, scope_kind: str, scope_value: str, agent: str | None, proposed: str) -> str:
    """Stable across runs: the same kind, scope and proposal always get the same id, so decisions keep pointing at
    it. Short enough to type: `rec-` + 10 hex digits."""
    key = "|".join((kind, scope_kind, scope_value, agent or "", proposed))
    return "rec-" + hashlib.sha256(key.encode()).hexdigest()[:10]


@dataclass
class Recommendation:
    kind: str
    scope_kind: str
    scope_value: str
    department: str | None
    team: str | None
    agent: str | None
    current_setting: str
    proposed_setting: str
    traffic_share: float | None
    monthly_saving: Decimal | None
    saving_low_80: Decimal | None
    saving_high_80: Decimal | None
    quality_change: float | None
    quality_low_80: float | None
    quality_high_80: float | None
    evidence_count: int | None
    p95_latency_change_ms: float | None
    risk: str
    change: str
    rationale: str
    detail: dict = field(default_factory=dict)
    currency: str = "USD"

    @property
    def rec_id(self) -> str:
        return rec_id(self.kind, self.scope_kind, self.scope_value, self.agent, self.proposed_setting)

    def row(self, created_at: datetime) -> tuple:
        values = asdict(self)
        values["detail"] = json.dumps(self.detail, default=str, sort_keys=True)
        values["rec_id"] = self.rec_id
        values["created_at"] = created_at
        return tuple(values[c] for c in COLUMNS)

    def as_json(self) -> dict:
        out = {c: getattr(self, c) for c in COLUMNS if c not in ("rec_id", "created_at")}
        out["rec_id"] = self.rec_id
        return out
