"""Capacity: hourly-billed provisioned throughput (the [[capacity]] rules of the config) compared with what it
serves, and on-demand spend compared with provisioned offers.

For each capacity rule with requests (serves_model), per hour: billed cost, units (the line's usage quantity),
tokens served and the hour's capacity (units x capacity_per_hour). Low utilisation leads to the cheapest of:
on-demand (the served tokens at the base model's on-demand price, when the bill names the model), fewer units
(enough for the busiest hour), or switching off the hours that serve nothing. Each is priced on the same hours.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

import duckdb
import pandas as pd

from models.recommend.evidence import Evidence
from models.recommend.pricing import MILLION, token_cost
from models.recommend.record import Recommendation
from models.recommend.settings import RecommendSettings
from models.recommend.stats import monthly_saving

_HOURLY = """
with rules as (select * from ref.capacity),
lines as (
    select c.rule_order, c.name, c.capacity_per_hour, l.resource_id, l.usage_type, l.billing_currency,
        date_trunc('hour', l.charge_period_start) as hour,
        sum(l.billed_cost) as cost, sum(l.consumed_quantity) as units
    from raw.cost_lines as l
    inner join rules as c on l.resource_id like c.resource_like escape '\\'
    where l.charge_period_start >= $start and l.charge_period_start < $stop
        and l.charge_category = 'Usage' and c.serves_like <> ''
    group by all
),
served as (
    select c.rule_order, date_trunc('hour', r.occurred_at) as hour, r.region, r.account_id,
        min(r.department) as department, min(r.team) as team, min(r.agent) as agent,
        count(*) as requests,
        sum(r.input_tokens) as input_tokens, sum(r.output_tokens) as output_tokens,
        sum(r.cache_read_tokens) as cache_read_tokens, sum(r.cache_write_tokens) as cache_write_tokens
    from intermediate.int_requests_priced as r
    inner join rules as c on c.serves_like <> '' and r.model_id like c.serves_like escape '\\'
    where r.occurred_at >= $start and r.occurred_at < $stop
    group by all
)
select l.*, coalesce(s.requests, 0) as requests,
    coalesce(s.input_tokens, 0) as input_tokens, coalesce(s.output_tokens, 0) as output_tokens,
    coalesce(s.cache_read_tokens, 0) as cache_read_tokens, coalesce(s.cache_write_tokens, 0) as cache_write_tokens,
    s.region, s.department, s.team, s.agent
from lines as l
left join served as s on s.rule_order = l.rule_order and s.hour = l.hour
order by l.rule_order, l.hour
"""

# The model a Bedrock provisioned-throughput usage type names: USE1-ProvisionedThroughput-NovaLite-NoCommit.
_BASE_MODEL = """
select u.provider, u.model
from ref.bedrock_usage_types as u
where $usage_type like '%ProvisionedThroughput-' || u.usage_model || '-%'
   or $usage_type like '%ProvisionedThroughput-' || u.usage_model
order by length(u.usage_model) desc
limit 1
"""

_ON_DEMAND = """
select date_trunc('hour', occurred_at) as hour, usage_date as day, provider, model, region,
    cast(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) as double) as tokens,
    coalesce(sum(estimated_cost), 0) as cost
from intermediate.int_requests_priced
where occurred_at >= $start and occurred_at < $stop and provider = $provider and model = $model
    and ($region = '*' or region = $region)
group by all
"""


def hourly(con: duckdb.DuckDBPyConnection, start: datetime, stop: datetime) -> pd.DataFrame:
    return con.execute(_HOURLY, {"start": start, "stop": stop}).to_arrow_table().to_pandas()


def base_model(con: duckdb.DuckDBPyConnection, usage_type: str) -> tuple[str, str] | None:
    row = con.execute(_BASE_MODEL, {"usage_type": usage_type or ""}).fetchone()
    return (row[0], row[1]) if row else None


def _by_day(ev: Evidence, values: pd.Series, hours: pd.Series) -> dict:
    out = {}
    for hour, value in zip(hours, values):
        day = pd.Timestamp(hour).date()
        out[day] = out.get(day, Decimal(0)) + Decimal(value)
    return out


def _options(ev: Evidence, rule: pd.DataFrame, model: tuple[str, str] | None) -> list[dict]:
    """Cost per hour under each alternative, with how to make the change."""
    current = [Decimal(c) for c in rule["cost"]]
    units = [Decimal(u) if u else Decimal(1) for u in rule["units"]]
    per_unit = [c / u for c, u in zip(current, units)]
    capacity = Decimal(rule["capacity_per_hour"].iloc[0])
    tokens = (rule["input_tokens"] + rule["output_tokens"] + rule["cache_read_tokens"]
              + rule["cache_write_tokens"]).astype("int64")
    options = []
    if model is not None:
        region = rule["region"].dropna().mode()
        region = region.iloc[0] if len(region) else "*"
        costs = [token_cost(ev, model[0], model[1], region, r.input_tokens, r.output_tokens, r.cache_read_tokens,
                            r.cache_write_tokens) if r.requests else Decimal(0) for r in rule.itertuples()]
        if all(c is not None for c in costs):
            options.append({"proposal": f"on-demand {model[1]}", "hourly": costs,
                            "how": f"Delete the provisioned throughput and call {model[1]} on demand (same model, "
                                   f"no commitment); the served tokens priced on demand cost less than the unit."})
    need = max(1, math.ceil(float(tokens.quantile(0.99)) / float(capacity))) if len(tokens) else 1
    if need < min(units):
        options.append({"proposal": f"{need} model unit(s)", "hourly": [p * need for p in per_unit],
                        "how": f"Reduce the provisioned throughput to {need} model unit(s): the busiest hours "
                               f"(p99) need {int(tokens.quantile(0.99))} tokens of {int(capacity)} per unit."})
    hour_of_day = pd.to_datetime(rule["hour"]).dt.hour
    busy_hours = sorted(set(hour_of_day[rule["requests"] > 0]))
    if len(busy_hours) <= 18:
        off = sorted(set(range(24)) - set(busy_hours))
        options.append({"proposal": f"off {len(off)} idle hours a day", "hourly": [
            Decimal(0) if h in off else c for h, c in zip(hour_of_day, current)],
            "how": f"Schedule the capacity to zero in the hours (UTC) {off}, where it served no request."})
    return options


def propose(con: duckdb.DuckDBPyConnection, ev: Evidence, settings: RecommendSettings) -> list[Recommendation]:
    out = []
    data = hourly(con, ev.start, ev.stop)
    for (order, name), rule in data.groupby(["rule_order", "name"]):
        capacity = float(rule["capacity_per_hour"].iloc[0])
        units = rule["units"].astype(float).clip(lower=1)
        tokens = (rule["input_tokens"] + rule["output_tokens"] + rule["cache_read_tokens"]
                  + rule["cache_write_tokens"]).astype(float)
        utilisation = float(tokens.sum() / (units * capacity).sum())
        if utilisation >= settings.capacity_low_utilisation:
            continue
        model = base_model(con, rule["usage_type"].iloc[0])
        current = _by_day(ev, rule["cost"], rule["hour"])
        best = None
        for option in _options(ev, rule, model):
            after = _by_day(ev, option["hourly"], rule["hour"])
            saving = monthly_saving([current.get(d, Decimal(0)) - after.get(d, Decimal(0)) for d in ev.days],
                                    settings.bootstrap_samples, settings.seed)
            if best is None or saving.monthly > best[1].monthly:
                best = (option, saving)
        if best is None or best[1].monthly < settings.min_monthly_saving:
            continue
        option, saving = best
        served = rule.dropna(subset=["agent"])
        first = served.iloc[0] if len(served) else None
        resource = rule["resource_id"].iloc[0]
        out.append(Recommendation(
            kind="capacity", scope_kind="resource", scope_value=resource,
            department=None if first is None else first.department, team=None if first is None else first.team,
            agent=None if first is None else first.agent,
            current_setting=f"{name}: {int(units.median())} provisioned unit(s), {utilisation:.1%} utilised",
            proposed_setting=f"{name}: {option['proposal']}", traffic_share=1.0,
            monthly_saving=saving.monthly, saving_low_80=saving.low_80, saving_high_80=saving.high_80,
            quality_change=0.0, quality_low_80=0.0, quality_high_80=0.0, evidence_count=0,
            p95_latency_change_ms=None, risk="medium" if option["proposal"].startswith("on-demand") else "low",
            change=option["how"],
            rationale=(f"The capacity served {int(tokens.sum())} tokens of {int((units * capacity).sum())} it could "
                       f"have ({utilisation:.1%}) over {len(rule)} billed hours. Same model, so quality is "
                       f"unchanged; on-demand calls are subject to account quotas (throttling) where provisioned "
                       f"throughput is reserved."),
            currency=str(rule["billing_currency"].iloc[0]),
            detail={"rule": name, "utilisation": round(utilisation, 4), "base_model": model and "/".join(model),
                    "hours": len(rule), "evidence_days": saving.days}))
    out += _provisioned_offers(con, ev, settings)
    return out


def _provisioned_offers(con, ev: Evidence, settings: RecommendSettings) -> list[Recommendation]:
    """On-demand spend on a model high enough that a provisioned unit (a configured offer) would cost less: buy
    enough units for the p95 hour, pay on demand above it."""
    out = []
    for offer in settings.provisioned_offers:
        rows = con.execute(_ON_DEMAND, {"start": ev.start, "stop": ev.stop, "provider": offer.provider,
                                        "model": offer.model, "region": offer.region}).to_arrow_table().to_pandas()
        if rows.empty:
            continue
        hours = pd.date_range(ev.start, ev.stop, freq="h", inclusive="left")
        per_hour = rows.groupby("hour").agg(tokens=("tokens", "sum"), cost=("cost", "sum")).reindex(hours)
        per_hour["tokens"] = per_hour["tokens"].fillna(0)
        per_hour["cost"] = per_hour["cost"].apply(lambda v: Decimal(0) if pd.isna(v) else Decimal(v))
        units = max(1, math.ceil(float(per_hour["tokens"].quantile(0.95)) / offer.tokens_per_hour))
        cap = units * offer.tokens_per_hour
        after = []
        for tokens, cost in zip(per_hour["tokens"], per_hour["cost"]):
            overflow = Decimal(max(0.0, tokens - cap) / tokens) if tokens else Decimal(0)
            after.append(offer.usd_per_hour * units + cost * overflow)
        current = _by_day(ev, per_hour["cost"], per_hour.index)
        proposed = _by_day(ev, after, per_hour.index)
        saving = monthly_saving([current.get(d, Decimal(0)) - proposed.get(d, Decimal(0)) for d in ev.days],
                                settings.bootstrap_samples, settings.seed)
        if saving.monthly < settings.min_monthly_saving:
            continue
        top = con.execute("select department, team, agent from intermediate.int_requests_priced where model = ? "
                          "and occurred_at >= ? and occurred_at < ? group by all order by count(*) desc limit 1",
                          [offer.model, ev.start, ev.stop]).fetchone()
        out.append(Recommendation(
            kind="capacity", scope_kind="resource", scope_value=f"{offer.provider}/{offer.model}@{offer.region}",
            department=top[0] if top else None, team=top[1] if top else None, agent=None,
            current_setting=f"{offer.model}: on-demand", proposed_setting=f"{offer.model}: {units} provisioned "
            f"unit(s) at {offer.usd_per_hour} USD/h, on-demand above them", traffic_share=1.0,
            monthly_saving=saving.monthly, saving_low_80=saving.low_80, saving_high_80=saving.high_80,
            quality_change=0.0, quality_low_80=0.0, quality_high_80=0.0, evidence_count=0,
            p95_latency_change_ms=None, risk="high",
            change=(f"Buy {units} provisioned-throughput unit(s) of {offer.model} (each serving "
                    f"{offer.tokens_per_hour} tokens/hour) and route up to their capacity to it; a commitment "
                    f"term lowers the price further but locks it in."),
            rationale=(f"{units} provisioned unit(s) sized for the p95 hour, with on-demand above them, would cost "
                       f"about {saving.monthly} USD/month less than today's on-demand spend on {offer.model}. Same "
                       f"model, so quality is unchanged; the units are paid whether used or not."),
            detail={"offer": offer.model_dump(mode="json"), "units": units, "evidence_days": saving.days}))
    return out
