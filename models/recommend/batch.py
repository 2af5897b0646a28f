"""Batch: traffic nobody waits for (scheduled or night-time jobs, agents you mark as batch) priced at the batch
price instead of on-demand.

An agent counts as scheduled when nearly all its requests fall in a few hours of the day (UTC), e.g. a nightly
job at 01:00-04:00; interactive traffic follows the day and spreads over many hours. The batch price is the price
book's batch_input / batch_output price, or the configured discount where the book has none.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from models.recommend.evidence import Evidence
from models.recommend.pricing import MILLION, daily_cost, daily_difference
from models.recommend.record import Recommendation
from models.recommend.settings import RecommendSettings
from models.recommend.stats import monthly_saving

NONE = "__none__"


def scheduled_share(hours: pd.DataFrame, agent: str, max_hours: int) -> tuple[float, list[int]]:
    """Share of the agent's requests in its busiest `max_hours` hours of the day, and those hours."""
    rows = hours[hours["agent"] == agent].sort_values("requests", ascending=False)
    total = rows["requests"].sum()
    if not total:
        return 0.0, []
    top = rows.head(max_hours)
    return float(top["requests"].sum() / total), sorted(int(h) for h in top["hour_of_day"])


def batch_prices(ev: Evidence, settings: RecommendSettings, provider: str, model: str, region: str):
    """(input, output, source) batch prices per million tokens, or None when the model has no on-demand price."""
    p_in, p_out = ev.price(provider, model, region, "input"), ev.price(provider, model, region, "output")
    if p_in is None or p_out is None:
        return None
    b_in, b_out = ev.price(provider, model, region, "batch_input"), ev.price(provider, model, region, "batch_output")
    if settings.batch_discount_source == "price_book" and b_in is not None and b_out is not None:
        return b_in, b_out, "price book"
    keep = (Decimal(100) - settings.batch_discount_pct) / Decimal(100)
    return p_in * keep, p_out * keep, f"{settings.batch_discount_pct}% batch discount (config)"


def batch_daily_cost(ev: Evidence, settings: RecommendSettings, rows: pd.DataFrame) -> tuple[dict, set]:
    out, sources = {}, set()
    for row in rows.itertuples(index=False):
        prices = batch_prices(ev, settings, row.provider, row.model, row.region)
        if prices is None:
            return {}, set()
        b_in, b_out, source = prices
        sources.add(source)
        read = ev.price(row.provider, row.model, row.region, "cache_read") or b_in
        write = ev.price(row.provider, row.model, row.region, "cache_write") or b_in
        cost = (Decimal(int(row.input_tokens)) * b_in + Decimal(int(row.output_tokens)) * b_out
                + Decimal(int(row.cache_read_tokens)) * read + Decimal(int(row.cache_write_tokens)) * write) / MILLION
        out[row.day] = out.get(row.day, Decimal(0)) + cost
    return out, sources


def _change(provider: str, agent: str, hours: list[int]) -> str:
    if provider == "aws.bedrock":
        return (f"Run {agent}'s job as a Bedrock batch inference job: write the prompts as JSONL to S3 and submit "
                f"`aws bedrock create-model-invocation-job --model-id <model> --input-data-config "
                f"s3Uri=s3://<bucket>/{agent}/input/ --output-data-config s3Uri=s3://<bucket>/{agent}/output/ "
                f"--role-arn <role>` instead of on-demand InvokeModel/Converse calls (today at {hours} UTC).")
    return (f"Send {agent}'s requests through the provider's Batch API (upload a JSONL file, create a batch with a "
            f"24h completion window) instead of synchronous calls (today at {hours} UTC).")


def propose(ev: Evidence, settings: RecommendSettings) -> list[Recommendation]:
    out = []
    daily = ev.daily[(ev.daily["agent"] != NONE)]
    for agent, rows in daily.groupby("agent"):
        share, hours = scheduled_share(ev.hours, agent, settings.batch_max_active_hours)
        marked = agent in settings.batch_agents
        if not marked and share < settings.batch_min_share_in_window:
            continue
        if rows["batch_requests"].sum() >= 0.5 * rows["requests"].sum():
            continue     # already on batch
        on_demand = rows[rows["batch_requests"] == 0]
        batched, sources = batch_daily_cost(ev, settings, on_demand)
        if not batched:
            continue
        saving = monthly_saving(daily_difference(ev, daily_cost(ev, on_demand), batched),
                                settings.bootstrap_samples, settings.seed)
        if saving.monthly < settings.min_monthly_saving:
            continue
        top = on_demand.groupby(["department", "team", "provider", "model"], as_index=False)["requests"].sum() \
            .sort_values("requests", ascending=False).iloc[0]
        models = sorted(set(on_demand["model"]))
        why = ("marked as batch in [recommend] batch_agents" if marked else
               f"{share:.1%} of its requests fall in {len(hours)} hours of the day (UTC {hours}): a scheduled job")
        out.append(Recommendation(
            kind="batch", scope_kind="agent", scope_value=agent, department=top.department, team=top.team,
            agent=agent, current_setting=f"{agent}: on-demand ({', '.join(models)})",
            proposed_setting=f"{agent}: batch inference ({', '.join(models)})", traffic_share=1.0,
            monthly_saving=saving.monthly, saving_low_80=saving.low_80, saving_high_80=saving.high_80,
            quality_change=0.0, quality_low_80=0.0, quality_high_80=0.0, evidence_count=int(rows["scored"].sum()),
            p95_latency_change_ms=settings.batch_turnaround_hours * 3_600_000.0, risk="low",
            change=_change(top.provider, agent, hours),
            rationale=(f"Not interactive: {why}. Same model and prompts, so quality is unchanged; results arrive "
                       f"within {settings.batch_turnaround_hours:g} h instead of seconds. Priced at "
                       f"{' / '.join(sorted(sources))}."),
            detail={"hours_utc": hours, "share_in_hours": round(share, 4), "marked": marked, "models": models,
                    "price_source": sorted(sources), "evidence_days": saving.days}))
    return out
