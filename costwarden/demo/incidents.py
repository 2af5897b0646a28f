"""The labelled ground truth: incidents planted in the traffic and savings opportunities left for recommenders.

Dates are placed as fractions of the window, so a 10-day test run holds every incident too. `effects_for` turns the
plan into per-hour multipliers that traffic.py applies; `price_overrides` gives the [[prices]] entries of the price
change (the CUR is costed from the same book, so billing reflects it).
"""

from __future__ import annotations

import calendar

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np

from costwarden.demo.company import END_DATE, MODELS, PROVISIONED_MODEL_ARN


@dataclass(frozen=True)
class Window:
    days: int
    end: date = END_DATE

    @property
    def start(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time()) - timedelta(days=self.days)

    @property
    def stop(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def start_ms(self) -> int:
        """The start as milliseconds since the Unix epoch (the window is UTC)."""
        return calendar.timegm(self.start.timetuple()) * 1000

    @property
    def hours(self) -> int:
        return self.days * 24

    def at(self, fraction: float, hour: int = 0) -> datetime:
        day = min(self.days - 1, max(0, round(fraction * self.days)))
        return self.start + timedelta(days=day, hours=hour)

    def hour_index(self, when: datetime) -> int:
        return int((when - self.start).total_seconds() // 3600)


@dataclass(frozen=True)
class Finding:
    id: str
    kind: str
    scope_kind: str        # team | agent | model | task_type | resource
    scope: str
    start: datetime
    end: datetime | None
    description: str
    expected_root_cause: str
    effect: dict = field(default_factory=dict, compare=False)   # how traffic.py plants it (not exported)

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "scope_kind": self.scope_kind, "scope": self.scope,
                "start": self.start.isoformat() + "Z", "end": self.end.isoformat() + "Z" if self.end else None,
                "description": self.description, "expected_root_cause": self.expected_root_cause}


def _weekday_on_or_after(when: datetime) -> datetime:
    while when.weekday() >= 5:
        when += timedelta(days=1)
    return when


def incidents(w: Window) -> list[Finding]:
    spike = _weekday_on_or_after(w.at(0.35))     # a weekday: campaign-writer is quiet at weekends
    loop = _weekday_on_or_after(w.at(0.45, hour=15))
    collapse = w.at(0.72)
    collapse_days = max(2, round(0.04 * w.days))
    bloat, rollout, price = w.at(0.55), w.at(0.62), w.at(0.8)
    return [
        Finding("INC-001", "cost_spike", "team", "growth", spike, spike + timedelta(days=1),
                "Growth's campaign-writer ran a one-day re-generation of every campaign (x12 requests).",
                "campaign-writer backfill job on Claude 3.5 Sonnet",
                {"agent": "campaign-writer", "rate": 12.0}),
        Finding("INC-002", "prompt_bloat", "agent", "ticket-summariser", bloat, None,
                "ticket-summariser started sending the whole ticket history: input tokens per request x3.",
                "prompt template change in ticket-summariser (full history instead of last message)",
                {"agent": "ticket-summariser", "input": 3.0}),
        Finding("INC-003", "runaway_loop", "agent", "code-review-bot", loop, loop + timedelta(hours=6),
                "code-review-bot retried its tool call in a loop: requests per run x20 for six hours, with "
                "throttling errors.", "agent loop without a step limit in code-review-bot",
                {"agent": "code-review-bot", "steps": 20.0, "errors": 6.0}),
        Finding("INC-004", "cache_collapse", "agent", "kb-answerer", collapse,
                collapse + timedelta(days=collapse_days),
                "kb-answerer's prompt-cache hit rate fell from ~85% to ~0 (cache reads vanish, uncached input "
                "and cache writes jump).", "a per-request timestamp added to kb-answerer's system prompt",
                {"agent": "kb-answerer", "cache_hit": 0.0}),
        Finding("INC-005", "model_rollout", "agent", "fraud-explainer", rollout, None,
                "fraud-explainer moved from Nova Pro to Claude 3.7 Sonnet: cost per request ~4x and higher "
                "latency.", "model rollout in fraud-explainer (amazon.nova-pro-v1:0 -> Claude 3.7 Sonnet)",
                {"agent": "fraud-explainer", "model": "claude-3-7-sonnet"}),
        Finding("INC-006", "price_change", "model", MODELS["claude-3-7-sonnet"].canonical, price, None,
                "Claude 3.7 Sonnet list price rose by a third (input 3 -> 4, output 15 -> 20, cache read 0.30 -> "
                "0.40, cache write 3.75 -> 5 USD per million).", "provider price change (no change in usage)",
                {"model": "claude-3-7-sonnet", "prices": {"input": Decimal("4"), "output": Decimal("20"),
                                                          "cache_read": Decimal("0.40"), "cache_write": Decimal("5")}}),
    ]


def opportunities(w: Window) -> list[Finding]:
    return [
        Finding("OPP-001", "cheaper_model", "task_type", "classification", w.start, None,
                "Nova Micro scores as well as Claude 3.5 Sonnet on classification (0.92 vs 0.93; eval-harness) at "
                "~1% of the price: support-triage could switch its classification traffic. Not for extraction: "
                "Nova Micro scores 0.58 there vs 0.92.",
                "support-triage classifies with Claude 3.5 Sonnet"),
        Finding("OPP-002", "batchable", "agent", "nightly-report-summariser", w.start, None,
                "nightly-report-summariser runs only 01:00-04:00 UTC, non-interactive: Bedrock batch inference "
                "would halve its cost.", "on-demand calls for an offline nightly job"),
        Finding("OPP-003", "low_utilisation_provisioned", "resource", PROVISIONED_MODEL_ARN, w.start, None,
                "The provisioned-throughput unit serving content-moderator runs at a few percent of its capacity "
                "around the clock: on-demand Nova Lite would cost far less.",
                "over-provisioned Bedrock provisioned throughput"),
    ]


def price_overrides(w: Window) -> list[dict]:
    """[[prices]] entries (config shape) that the price-change incident needs."""
    out = []
    for f in incidents(w):
        if f.kind == "price_change":
            model = MODELS[f.effect["model"]]
            for token_type, price in f.effect["prices"].items():
                out.append({"provider": model.provider, "model": model.canonical, "region": "*",
                            "token_type": token_type, "usd_per_million_tokens": price,
                            "effective_from": f.start.date()})
    return out


def effects_for(agent_name: str, w: Window) -> dict:
    """Per-hour multipliers for one agent: rate, steps, input, errors; cache hit override (NaN = none);
    and (hour, model key) of a model switch, if any."""
    n = w.hours
    fx = {"rate": np.ones(n), "steps": np.ones(n), "input": np.ones(n), "errors": np.ones(n),
          "cache_hit": np.full(n, np.nan), "switch": None}
    for f in incidents(w):
        effect = f.effect
        if effect.get("agent") != agent_name:
            continue
        lo = max(0, w.hour_index(f.start))
        hi = n if f.end is None else min(n, w.hour_index(f.end))
        for key in ("rate", "steps", "input", "errors"):
            if key in effect:
                fx[key][lo:hi] *= effect[key]
        if "cache_hit" in effect:
            fx["cache_hit"][lo:hi] = effect["cache_hit"]
        if "model" in effect:
            fx["switch"] = (lo, effect["model"])
    return fx


def all_findings(w: Window) -> dict:
    return {"window": {"start": w.start.isoformat() + "Z", "end": w.stop.isoformat() + "Z"},
            "incidents": [f.as_dict() for f in incidents(w)],
            "opportunities": [f.as_dict() for f in opportunities(w)]}

