-- Latency, time to first token, jitter and errors per model version per day, across all agents.
-- grain: day, provider, model, model_version
-- materialized: table

-- Percentiles are standard percentile_cont (linear interpolation, as numpy's default) over the successful calls
-- that report the measure (a throttled call fails fast and a timed-out one takes the client's timeout, so failures
-- would say more about the error than about the model; they are counted in errors and error_rate). jitter is
-- p99 / p50 latency. ttft is null for calls that did not stream. Grouping by model_version lets an A/B switch be
-- compared side by side. The grain has no currency, so cost here is the price-book estimate in USD
-- (estimated_cost_usd; `cost` is the same number under the name the dashboards use); billed amounts by currency
-- are in marts.unit_cost.
with

calls as (
    select * from intermediate.int_agent_calls
),

final as (
    select
        usage_date as day, provider, model, model_version,
        count(*) as requests,
        count(*) filter (where is_failed) as errors,
        count(*) filter (where is_timed_out) as timeouts,
        cast(count(*) filter (where is_failed) as double) / count(*) as error_rate,
        percentile_cont(0.5) within group (order by latency_ms) filter (where not is_failed) as p50_latency_ms,
        percentile_cont(0.95) within group (order by latency_ms) filter (where not is_failed) as p95_latency_ms,
        percentile_cont(0.99) within group (order by latency_ms) filter (where not is_failed) as p99_latency_ms,
        percentile_cont(0.5) within group (order by ttft_ms) filter (where not is_failed) as p50_ttft_ms,
        percentile_cont(0.95) within group (order by ttft_ms) filter (where not is_failed) as p95_ttft_ms,
        percentile_cont(0.99) within group (order by ttft_ms) filter (where not is_failed) as p99_ttft_ms,
        cast(sum(estimated_cost) as decimal(38, 10)) as estimated_cost_usd
    from calls
    group by usage_date, provider, model, model_version
)

select
    *,
    case when p50_latency_ms > 0 then p99_latency_ms / p50_latency_ms end as jitter,
    estimated_cost_usd as cost
from final
