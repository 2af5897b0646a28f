"""Verification: after a recommendation was applied, measure from the newer logs what it actually saved and how
quality and latency moved, beside the estimate.

The realised saving compares the traffic after the applied date with the same traffic priced as before the change
(its counterfactual): for routing, the scope's tokens at the old model's prices; for batch, batch-tier requests at
on-demand prices; for caching, cache tokens as plain input (net of the caching there already was); for capacity,
the resource's bill plus the served agent's on-demand cost, per day, before and after. Quality and p95 latency are
the scope's own, after minus before.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np

from costwarden.errors import CostwardenError
from models.recommend import evidence
from models.recommend.pricing import MILLION, daily_cost, daily_difference
from models.recommend.settings import RecommendSettings
from models.recommend.stats import DAYS_PER_MONTH, money

MIN_DAYS_AFTER = 3


class VerifyError(CostwardenError):
    """Not enough data after the applied date to measure anything yet."""


def _mean_monthly(ev, daily: list[Decimal]) -> Decimal:
    return money(sum(daily, Decimal(0)) / max(len(daily), 1) * DAYS_PER_MONTH)


def _quality(ev, agent: str, task_type: str | None) -> tuple[int, float | None]:
    d = ev.daily[(ev.daily["agent"] == agent) & ((ev.daily["task_type"] == task_type) if task_type else True)]
    n = int(d["scored"].sum())
    return n, (float(d["q_sum"].sum()) / n if n else None)


def _p95(ev, agent: str, task_type: str | None) -> float | None:
    rows = ev.latency[(ev.latency["agent"] == agent)
                      & ((ev.latency["task_type"] == task_type) if task_type else True)]
    return float(np.quantile(rows["latency_ms"], 0.95)) if len(rows) >= 20 else None


def verify(con, rec_id: str, applied: date, settings: RecommendSettings | None = None) -> dict:
    settings = settings or RecommendSettings()
    rec = con.execute("select kind, agent, detail, monthly_saving, saving_low_80, saving_high_80, quality_change, "
                      "p95_latency_change_ms, scope_value from analytics.recommendations where rec_id = ?",
                      [rec_id]).fetchone()
    kind, agent, detail, est, low, high, est_quality, est_latency, scope_value = rec
    detail = json.loads(detail) if isinstance(detail, str) else (detail or {})
    span = evidence.data_span(con)
    cut = datetime.combine(applied, datetime.min.time())
    stop = cut if span is None else datetime.combine(span[1].date(), datetime.min.time()) + timedelta(days=1)
    if (stop - cut).days < MIN_DAYS_AFTER:
        raise VerifyError(f"recommendation {rec_id} was applied on {applied}; verification needs at least "
                          f"{MIN_DAYS_AFTER} days of logs after that (load newer data, then verify again).")
    before = evidence.load(con, settings, cut - timedelta(days=settings.lookback_days), cut)
    after = evidence.load(con, settings, cut, stop)
    task = detail.get("task_type") if kind in ("routing", "evaluate") else None
    measured: dict = {}
    if kind in ("routing", "evaluate"):
        provider, model = detail["current_model"].split("/", 1)
        new_provider, new_model = detail["proposed_model"].split("/", 1)
        rows = after.daily[(after.daily["agent"] == agent) & (after.daily["task_type"] == task)]
        counterfactual = daily_cost(after, rows, provider, model)
        realised = daily_difference(after, counterfactual, daily_cost(after, rows))
        moved = rows[(rows["provider"] == new_provider) & (rows["model"] == new_model)]["requests"].sum()
        measured["traffic_moved"] = round(float(moved / max(rows["requests"].sum(), 1)), 4)
    elif kind == "batch":
        rows = after.daily[after.daily["agent"] == agent]
        from models.recommend.batch import batch_daily_cost

        batched = rows[rows["batch_requests"] > 0]
        on_demand = daily_cost(after, batched)
        at_batch, _ = batch_daily_cost(after, settings, batched)
        realised = daily_difference(after, on_demand, at_batch)
        measured["traffic_moved"] = round(float(rows["batch_requests"].sum() / max(rows["requests"].sum(), 1)), 4)
    elif kind == "caching":
        realised = _caching_gain(after, agent, before)
    else:
        realised = _capacity_change(con, before, after, scope_value, agent)
    q_before, q_after = _quality(before, agent, task), _quality(after, agent, task)
    p_before, p_after = _p95(before, agent, task), _p95(after, agent, task)
    return {
        "applied_on": applied.isoformat(), "days_after": len(after.days),
        "estimated_monthly_saving": str(est), "estimated_interval_80": [str(low), str(high)],
        "realised_monthly_saving": str(_mean_monthly(after, realised)),
        "within_interval": bool(low is not None and low <= _mean_monthly(after, realised) <= high),
        "estimated_quality_change": est_quality,
        "realised_quality_change": (None if q_before[1] is None or q_after[1] is None
                                    else round(q_after[1] - q_before[1], 4)),
        "quality_evidence": {"before": q_before[0], "after": q_after[0]},
        "estimated_p95_latency_change_ms": est_latency,
        "realised_p95_latency_change_ms": None if p_before is None or p_after is None else round(p_after - p_before, 1),
        **measured,
    }


def _caching_gain(after, agent: str, before) -> list[Decimal]:
    """Per day after: what cache reads saved net of cache-write premiums, minus the per-request gain caching
    already gave before (so only the change counts)."""
    def gain(ev, rows) -> dict:
        out = {}
        for r in rows.itertuples(index=False):
            p_in = ev.price(r.provider, r.model, r.region, "input") or Decimal(0)
            p_read = ev.price(r.provider, r.model, r.region, "cache_read") or p_in
            p_write = ev.price(r.provider, r.model, r.region, "cache_write") or p_in
            g = (Decimal(int(r.cache_read_tokens)) * (p_in - p_read)
                 - Decimal(int(r.cache_write_tokens)) * (p_write - p_in)) / MILLION
            out[r.day] = out.get(r.day, Decimal(0)) + g
        return out

    rows_before = before.daily[before.daily["agent"] == agent]
    per_request = (sum(gain(before, rows_before).values(), Decimal(0)) / max(int(rows_before["requests"].sum()), 1))
    rows_after = after.daily[after.daily["agent"] == agent]
    now = gain(after, rows_after)
    requests = rows_after.groupby("day")["requests"].sum()
    return [now.get(d, Decimal(0)) - per_request * int(requests.get(d, 0)) for d in after.days]


def _capacity_change(con, before, after, resource: str, agent: str | None) -> list[Decimal]:
    """Average day before minus each day after, of the resource's bill plus the served agent's on-demand cost."""
    def per_day(ev) -> dict:
        out: dict = {}
        for day, cost in con.execute("select cast(charge_period_start as date), sum(billed_cost) from raw.cost_lines "
                                     "where resource_id = ? and charge_period_start >= ? and charge_period_start < ? "
                                     "group by 1", [resource, ev.start, ev.stop]).fetchall():
            out[day] = out.get(day, Decimal(0)) + cost
        if agent:
            rows = ev.daily[ev.daily["agent"] == agent]
            for day, cost in daily_cost(ev, rows).items():
                out[day] = out.get(day, Decimal(0)) + cost
        return out

    pre = per_day(before)
    baseline = sum(pre.values(), Decimal(0)) / max(len(before.days), 1)
    post = per_day(after)
    return [baseline - post.get(d, Decimal(0)) for d in after.days]
