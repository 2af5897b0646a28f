"""What the recommenders read from the warehouse, for one window of days: daily usage and cost per scope, quality
evidence, a latency sample, the hour-of-day profile, prompt sizes and the price book.

Everything comes from intermediate.int_requests_priced (one row per request, estimated cost in USD from the price
book) and ref.price_book, so a recommendation prices the current and the proposed setting with the same book.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from models.recommend.settings import RecommendSettings

# Finish reasons that mean the answer was cut off (OpenAI: length; Anthropic/Bedrock: max_tokens).
TRUNCATED = ("length", "max_tokens")

SCOPE = ["department", "team", "agent", "task_type", "provider", "model", "region"]

_DAILY = """
with requests as (
    select
        r.*,
        -- DuckDB-only: lag over a window; a request within the TTL of the previous one of the same agent and
        -- model could read a cached prefix
        epoch(r.occurred_at) - epoch(lag(r.occurred_at) over (
            partition by r.agent, r.model order by r.occurred_at)) as gap_s
    from intermediate.int_requests_priced as r
    where r.occurred_at >= $start and r.occurred_at < $stop
)
select
    usage_date as day,
    department, team, coalesce(agent, '__none__') as agent, coalesce(task_type, '__none__') as task_type,
    provider, model, coalesce(region, '*') as region,
    count(*) as requests,
    count(*) filter (where status <> 'success') as errors,
    count(*) filter (where lower(finish_reason) in ('length', 'max_tokens')) as truncated,
    count(*) filter (where gap_s is not null and gap_s <= $ttl) as warm_requests,
    count(*) filter (where lower(coalesce(service_tier, '')) = 'batch') as batch_requests,
    count(*) filter (where estimated_cost is null) as unpriced,
    sum(input_tokens) as input_tokens,
    sum(output_tokens) as output_tokens,
    sum(cache_read_tokens) as cache_read_tokens,
    sum(cache_write_tokens) as cache_write_tokens,
    coalesce(sum(estimated_cost), 0) as cost,
    count(quality_score) as scored,
    coalesce(sum(quality_score), 0) as q_sum,
    coalesce(sum(quality_score * quality_score), 0) as q_sumsq
from requests
group by all
"""

_QUALITY = """
select coalesce(agent, '__none__') as agent, coalesce(task_type, '__none__') as task_type, provider, model,
    count(quality_score) as n, avg(quality_score) as mean, coalesce(var_samp(quality_score), 0) as var,
    count(*) as requests,
    count(*) filter (where status <> 'success') as errors,
    count(*) filter (where lower(finish_reason) in ('length', 'max_tokens')) as truncated,
    avg(output_tokens) filter (where status = 'success') as mean_output
from intermediate.int_requests_priced
where occurred_at >= $start and occurred_at < $stop
group by all
"""

_LATENCY = """
select coalesce(agent, '__none__') as agent, coalesce(task_type, '__none__') as task_type, provider, model,
    cast(total_input_tokens as double) as prompt_tokens, cast(output_tokens as double) as output_tokens,
    latency_ms
from intermediate.int_requests_priced
where occurred_at >= $start and occurred_at < $stop and status = 'success' and latency_ms is not null
"""

_HOURS = """
select coalesce(agent, '__none__') as agent, hour(occurred_at) as hour_of_day, count(*) as requests
from intermediate.int_requests_priced
where occurred_at >= $start and occurred_at < $stop
group by all
"""

_PROMPTS = """
select coalesce(agent, '__none__') as agent, provider, model,
    -- DuckDB-only: quantile_cont
    quantile_cont(total_input_tokens, $q) as prefix_tokens,
    quantile_cont(total_input_tokens, 0.5) as median_prompt,
    count(*) as requests
from intermediate.int_requests_priced
where occurred_at >= $start and occurred_at < $stop and status = 'success'
group by all
"""

_PRICES = """
select provider, model, region, token_type, usd_per_million
from ref.price_book
where effective_from <= $day and (effective_to is null or effective_to > $day)
qualify row_number() over (partition by provider, model, region, token_type order by effective_from desc) = 1
"""


@dataclass
class Evidence:
    start: datetime
    stop: datetime
    daily: pd.DataFrame           # grain day x SCOPE; money column `cost` holds Decimals
    quality: pd.DataFrame         # grain agent x task_type x provider x model over the quality window
    latency: pd.DataFrame         # successful requests (a sample): prompt and output tokens, latency
    hours: pd.DataFrame           # agent x hour of day: requests
    prompts: pd.DataFrame         # agent x provider x model: prefix and median prompt tokens
    prices: dict                  # (provider, model, region, token_type) -> Decimal USD per million tokens

    @property
    def days(self) -> list[date]:
        return [(self.start + timedelta(days=i)).date() for i in range((self.stop - self.start).days)]

    def price(self, provider: str, model: str, region: str, token_type: str):
        """A region's own price beats the '*' price; None when the book has neither."""
        return self.prices.get((provider, model, region, token_type),
                               self.prices.get((provider, model, "*", token_type)))


def data_span(con: duckdb.DuckDBPyConnection) -> tuple[datetime, datetime] | None:
    row = con.execute("select min(occurred_at), max(occurred_at) from intermediate.int_requests_priced").fetchone()
    return None if row is None or row[0] is None else (row[0], row[1])


def window_ending(con, settings: RecommendSettings, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The lookback window: whole UTC days ending with the last complete day of data (or before `now`)."""
    span = data_span(con)
    if span is None:
        raise LookupError("no priced requests")
    newest = span[1] if now is None else min(span[1], now)
    stop = datetime.combine(newest.date(), datetime.min.time())
    if newest.hour >= 23 or now is not None and now.date() > newest.date():
        stop += timedelta(days=1)    # the newest day is complete
    start = max(stop - timedelta(days=settings.lookback_days), datetime.combine(span[0].date(), datetime.min.time()))
    return start, stop


def _frame(con, sql: str, params: dict) -> pd.DataFrame:
    """A query as a DataFrame with DECIMAL columns kept as Decimal objects (DuckDB's .df() makes them floats)."""
    return con.execute(sql, params).to_arrow_table().to_pandas()


def load(con: duckdb.DuckDBPyConnection, settings: RecommendSettings, start: datetime, stop: datetime,
         quality_start: datetime | None = None, latency_rows: int = 200_000) -> Evidence:
    window = {"start": start, "stop": stop}
    daily = _frame(con, _DAILY, {**window, "ttl": settings.cache_ttl_seconds})
    quality = con.execute(_QUALITY, {"start": quality_start or start, "stop": stop}).df()
    latency = con.execute(_LATENCY + f" using sample reservoir({int(latency_rows)} rows) repeatable (7)",
                          window).df()
    hours = con.execute(_HOURS, window).df()
    prompts = con.execute(_PROMPTS, {**window, "q": settings.cache_prefix_quantile}).df()
    prices = {(p, m, r, t): v for p, m, r, t, v in
              con.execute(_PRICES, {"day": (stop - timedelta(days=1)).date()}).fetchall()}
    daily["day"] = pd.to_datetime(daily["day"]).dt.date
    return Evidence(start, stop, daily, quality, latency, hours, prompts, prices)
