"""Replay: what a recommendation made on earlier data would have done on later data (the held-out evaluation).

The later traffic of the recommendation's scope is re-priced under the proposal exactly as the estimate was, but
with the later period's own evidence: the proposed model's observed quality, latency fit and answer length there.
"""

from __future__ import annotations

from decimal import Decimal

from models.recommend import batch as batch_rec
from models.recommend import caching as caching_rec
from models.recommend import capacity as capacity_rec
from models.recommend import latency as latency_model
from models.recommend import routing
from models.recommend.evidence import Evidence
from models.recommend.pricing import daily_cost, daily_difference
from models.recommend.record import Recommendation
from models.recommend.settings import RecommendSettings
from models.recommend.stats import DAYS_PER_MONTH, money, quality_change


def _monthly(ev: Evidence, daily: list[Decimal]) -> Decimal:
    return money(sum(daily, Decimal(0)) / max(len(daily), 1) * DAYS_PER_MONTH)


def replay(con, rec: Recommendation, later: Evidence, settings: RecommendSettings) -> dict:
    d = rec.detail
    out = {"realised_monthly_saving": None, "realised_quality_change": None, "realised_p95_change_ms": None,
           "quality_evidence": 0}
    if rec.kind in ("routing", "evaluate"):
        provider, model = d["current_model"].split("/", 1)
        new_provider, new_model = d["proposed_model"].split("/", 1)
        team_rows = later.daily[later.daily["agent"] == rec.agent]
        scope = routing.Scope(rec.department, rec.team, rec.agent, d["task_type"], provider, model, 1.0)
        rows = later.daily[(later.daily["agent"] == rec.agent) & (later.daily["task_type"] == d["task_type"])
                           & (later.daily["provider"] == provider) & (later.daily["model"] == model)]
        if rows.empty or team_rows.empty:
            return out
        ratio = routing._output_ratio(later, scope, new_provider, new_model)
        proposed = daily_cost(later, rows, new_provider, new_model, ratio)
        out["realised_monthly_saving"] = _monthly(later, daily_difference(later, daily_cost(later, rows), proposed))
        cur, cand, _ = routing._quality_basis(later, scope, new_provider, new_model, settings.min_evidence)
        q = quality_change(cur.as_tuple(), cand.as_tuple(), settings.quality_confidence)
        out["realised_quality_change"], out["quality_evidence"] = q.delta, q.evidence
        fits = latency_model.fit_models(later.latency)
        sample = later.latency[(later.latency["agent"] == rec.agent)
                               & (later.latency["task_type"] == d["task_type"])
                               & (later.latency["provider"] == provider) & (later.latency["model"] == model)]
        now = latency_model.scope_p95(fits, provider, model, sample)
        new = latency_model.scope_p95(fits, new_provider, new_model, sample)
        out["realised_p95_change_ms"] = None if now is None or new is None else new - now
        out["realised_p95_ms"] = new
    elif rec.kind == "batch":
        rows = later.daily[(later.daily["agent"] == rec.agent) & (later.daily["batch_requests"] == 0)]
        batched, _ = batch_rec.batch_daily_cost(later, settings, rows)
        out["realised_monthly_saving"] = _monthly(later, daily_difference(later, daily_cost(later, rows), batched))
        out["realised_quality_change"] = 0.0
    elif rec.kind == "caching":
        provider, model = d["model"].split("/", 1)
        rows = later.daily[(later.daily["agent"] == rec.agent) & (later.daily["provider"] == provider)
                           & (later.daily["model"] == model)]
        gains = caching_rec.daily_saving(later, rows, int(d["prefix_tokens"]), float(d["cache_read_share"]))
        out["realised_monthly_saving"] = _monthly(later, [gains.get(day, Decimal(0)) for day in later.days])
        out["realised_quality_change"] = 0.0
    elif rec.kind == "capacity" and "rule" in d:
        data = capacity_rec.hourly(con, later.start, later.stop)
        rule = data[data["name"] == d["rule"]]
        if rule.empty:
            return out
        model = capacity_rec.base_model(con, rule["usage_type"].iloc[0])
        current = capacity_rec._by_day(later, rule["cost"], rule["hour"])
        for option in capacity_rec._options(later, rule, model):
            if rec.proposed_setting.endswith(option["proposal"]):
                after = capacity_rec._by_day(later, option["hourly"], rule["hour"])
                out["realised_monthly_saving"] = _monthly(later, [current.get(x, Decimal(0)) - after.get(x, Decimal(0))
                                                                  for x in later.days])
        out["realised_quality_change"] = 0.0
    return out
