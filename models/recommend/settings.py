"""Config for recommendations: the [recommend] section (quality tolerance, evidence, SLOs per scope, batch and
cache assumptions, capacity offers)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LatencySlo(_Strict):
    # Which scope the target applies to: an agent, a team, or a task type (e.g. classification).
    scope_kind: Literal["agent", "team", "task_type"]
    # The agent, team or task-type name.
    scope: str
    # The p95 end-to-end latency a routing change must keep, in milliseconds.
    p95_latency_ms: float = Field(gt=0)


class ProvisionedOffer(_Strict):
    # A provisioned-throughput price you could buy, so on-demand spend can be compared with it. The model it serves
    # (canonical id as in ref.price_book), its region, what one unit costs per hour and serves per hour in tokens.
    provider: str = "aws.bedrock"
    model: str
    region: str = "*"
    usd_per_hour: Decimal = Field(gt=0)
    tokens_per_hour: int = Field(gt=0)


class RecommendSettings(_Strict):
    # Days of history each estimate uses (the most recent ones, ending at the newest request).
    lookback_days: int = Field(default=28, ge=7)
    # Quality: a cheaper model may score at most this much lower (absolute, on the 0-1 evaluator scale) than the
    # current one; a routing change is proposed only when the lower end of the quality interval clears it.
    quality_tolerance: float = Field(default=0.02, ge=0, le=1)
    # Confidence of the quality check: the one-sided lower bound used to accept a candidate (0.9 = 90%).
    quality_confidence: float = Field(default=0.9, gt=0.5, lt=1)
    # A candidate's error rate may exceed the current model's by at most this much (absolute, 0.01 = 1 point).
    error_rate_tolerance: float = Field(default=0.01, ge=0, le=1)
    # ... and its share of truncated answers (finish reason length / max_tokens) by at most this much.
    truncation_tolerance: float = Field(default=0.02, ge=0, le=1)
    # Scored requests needed on both models (same task type) before a switch is proposed; with less, costwarden
    # proposes a shadow test (kind "evaluate") instead.
    min_evidence: int = Field(default=30, ge=1)
    # Without an SLO for the scope, a routing change may raise p95 latency by at most this fraction (0.2 = 20%).
    max_latency_increase: float = Field(default=0.2, ge=0)
    # p95 latency targets per agent, team or task type (the tightest one that applies wins).
    slos: list[LatencySlo] = Field(default_factory=list)
    # Recommendations saving less than this per month (USD) are not shown.
    min_monthly_saving: Decimal = Field(default=Decimal("5"), ge=0)
    # Bootstrap resamples of days behind the 80% saving interval.
    bootstrap_samples: int = Field(default=400, ge=50)
    # Seed of the bootstrap, so a re-run gives the same intervals.
    seed: int = 7
    # Batch: where the batch price comes from. price_book = batch_input/batch_output prices in ref.price_book, with
    # batch_discount_pct for models the book lacks; discount = always batch_discount_pct off the on-demand price.
    batch_discount_source: Literal["price_book", "discount"] = "price_book"
    # Batch discount off the on-demand price, in percent (Bedrock and OpenAI batch are 50% off).
    batch_discount_pct: Decimal = Field(default=Decimal("50"), ge=0, le=100)
    # Agents you know are not interactive (offline jobs); they are batch candidates whatever their timing.
    batch_agents: list[str] = Field(default_factory=list)
    # A scope is "scheduled" when at least this share of its requests falls in at most batch_max_active_hours
    # distinct hours of the day (UTC), so nobody waits on an answer.
    batch_min_share_in_window: float = Field(default=0.95, gt=0, le=1)
    batch_max_active_hours: int = Field(default=6, ge=1, le=23)
    # How long a batch job may take to finish, in hours (shown as the latency change of a batch recommendation).
    batch_turnaround_hours: float = Field(default=24, gt=0)
    # Caching: scopes whose median prompt is at least this many tokens and whose cache reads are below
    # cache_max_read_share of their input are candidates; the shared prefix is estimated as the
    # cache_prefix_quantile of their prompt sizes (the part every request carries).
    cache_min_prompt_tokens: int = Field(default=2048, ge=1)
    cache_max_read_share: float = Field(default=0.2, ge=0, le=1)
    cache_prefix_quantile: float = Field(default=0.05, gt=0, lt=1)
    # A cached prefix lives this many seconds after its last use (a request within it reads, else writes).
    cache_ttl_seconds: int = Field(default=300, gt=0)
    # Capacity: provisioned capacity busy less than this share of its hours' capacity is "low utilisation".
    capacity_low_utilisation: float = Field(default=0.3, gt=0, le=1)
    # Provisioned-throughput offers to compare on-demand spend against (none: that check is skipped).
    provisioned_offers: list[ProvisionedOffer] = Field(default_factory=list)
