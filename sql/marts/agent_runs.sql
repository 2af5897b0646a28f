-- Agent runs: every call of one trace, what the run cost and how much of it was waste.
-- grain: run_id, billing_currency
-- materialized: table

-- One row per run and billing currency (a run is almost always billed in one currency; its calls, flags and
-- estimate describe the whole run and repeat on each of its currency rows). day, department, team and agent are
-- those of the run's first call. cost / effective_cost: the calls' reconciled bill share where a bill covers them,
-- else their USD estimate (unbilled_estimate says how much of cost is such an estimate). waste_cost: cost of
-- failed, timed-out and retried calls (see intermediate.int_agent_calls). estimated_cost_usd: the price-book
-- estimate of every call of the run.
with

calls as (
    select * from intermediate.int_agent_calls
),

first_calls as (
    select
        run_id, department, team, agent,
        row_number() over (partition by run_id order by occurred_at, request_key) as call_rank
    from calls
),

runs as (
    select
        run_id,
        min(occurred_at) as started_at,
        max(ended_at) as ended_at,
        count(*) as calls,
        count(*) filter (where is_failed) as failed_calls,
        count(*) filter (where is_retried) as retried_calls,
        count(*) filter (where is_timed_out) as timed_out_calls,
        count(*) filter (where is_waste) as waste_calls,
        bool_or(run_succeeded) as succeeded,
        cast(sum(estimated_cost) as decimal(38, 10)) as estimated_cost_usd
    from calls
    group by run_id
),

run_costs as (
    select
        k.run_id,
        c.billing_currency,
        cast(sum(c.cost) as decimal(38, 10)) as cost,
        cast(sum(c.effective_cost) as decimal(38, 10)) as effective_cost,
        cast(sum(c.unbilled_estimate) as decimal(38, 10)) as unbilled_estimate,
        cast(coalesce(sum(c.cost) filter (where k.is_waste), 0) as decimal(38, 10)) as waste_cost
    from calls as k
    inner join intermediate.int_request_costs as c on c.request_key = k.request_key
    group by k.run_id, c.billing_currency
),

final as (
    select
        r.run_id,
        cast(r.started_at as date) as day,
        f.department, f.team, f.agent,
        c.billing_currency,
        r.started_at, r.ended_at,
        r.calls, r.failed_calls, r.retried_calls, r.timed_out_calls, r.waste_calls,
        r.succeeded,
        c.cost, c.effective_cost, c.unbilled_estimate,
        r.estimated_cost_usd,
        c.waste_cost
    from runs as r
    inner join first_calls as f on f.run_id = r.run_id and f.call_rank = 1
    inner join run_costs as c on c.run_id = r.run_id
)

select * from final
