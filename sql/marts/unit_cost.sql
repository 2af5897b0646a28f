-- Unit economics: cost per request, per 1K tokens, per agent run and per successful run.
-- grain: day, billing_currency, department, team, agent, model
-- materialized: table

-- cost / effective_cost: the calls' reconciled share of the bill where a bill covers them, else their USD estimate
-- (unbilled_estimate says how much). Per day and currency, cost adds up to marts.allocated_cost's tokens + capacity
-- billed cost plus its estimated_unbilled estimate (audit unit_cost_equals_allocated); idle, direct, shared and
-- unallocated rows belong to no call, so they are not in unit cost. tokens are those the cost paid for.
-- runs: distinct runs with a call in the row (a run using two models counts in both rows); successful_runs: those
-- that succeeded. waste_cost: cost of failed, timed-out and retried calls.
-- Ratios are exact decimals rounded half away from zero to 1e-10: amounts become integers of 1e-10 (HUGEINT) and
-- are divided in integers, because decimal division would go through a double. Null where the divisor is 0.
with

rows_costed as (
    select
        c.day, c.billing_currency, k.department, k.team, k.agent, k.model,
        c.request_key, k.run_id, k.run_succeeded, k.is_waste,
        c.cost, c.effective_cost, c.unbilled_estimate,
        c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_tokens
    from intermediate.int_request_costs as c
    inner join intermediate.int_agent_calls as k on k.request_key = c.request_key
),

grouped as (
    select
        day, billing_currency, department, team, agent, model,
        cast(sum(cost) as decimal(38, 10)) as cost,
        cast(sum(effective_cost) as decimal(38, 10)) as effective_cost,
        cast(sum(unbilled_estimate) as decimal(38, 10)) as unbilled_estimate,
        count(distinct request_key) as requests,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_tokens) as cache_write_tokens,
        count(distinct run_id) as runs,
        count(distinct case when run_succeeded then run_id end) as successful_runs,
        cast(coalesce(sum(cost) filter (where is_waste), 0) as decimal(38, 10)) as waste_cost
    from rows_costed
    group by day, billing_currency, department, team, agent, model
),

units as (
    select
        *,
        cast(cost * 10000000000 as hugeint) as cost_units,    -- null when no call of the row is priced
        cast(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens as hugeint) as tokens
    from grouped
),

-- DuckDB-only: `//` is integer division; (2|a| + n) // 2n rounds |a| / n half up, the sign goes back on after.
final as (
    select
        day, billing_currency, department, team, agent, model,
        cost, effective_cost, unbilled_estimate, requests,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
        runs, successful_runs, waste_cost,
        case when requests > 0 then cast(cast(sign(cost_units) * ((2 * abs(cost_units) + requests)
            // (2 * requests)) as decimal(38, 0)) * cast(0.0000000001 as decimal(11, 10)) as decimal(38, 10))
        end as cost_per_request,
        case when tokens > 0 then cast(cast(sign(cost_units) * ((2000 * abs(cost_units) + tokens)
            // (2 * tokens)) as decimal(38, 0)) * cast(0.0000000001 as decimal(11, 10)) as decimal(38, 10))
        end as cost_per_1k_tokens,
        case when runs > 0 then cast(cast(sign(cost_units) * ((2 * abs(cost_units) + runs)
            // (2 * runs)) as decimal(38, 0)) * cast(0.0000000001 as decimal(11, 10)) as decimal(38, 10))
        end as cost_per_run,
        case when successful_runs > 0 then cast(cast(sign(cost_units) * ((2 * abs(cost_units) + successful_runs)
            // (2 * successful_runs)) as decimal(38, 0)) * cast(0.0000000001 as decimal(11, 10)) as decimal(38, 10))
        end as cost_per_successful_run
    from units
)

select * from final
