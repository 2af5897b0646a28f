-- Unit cost covers exactly the request-driven spend: per day and billing currency, marts.unit_cost cost and
-- effective cost equal marts.allocated_cost's tokens + capacity billed (effective) cost plus its estimated_unbilled
-- estimate, and marts.agent_runs adds up to the same totals over all days. Returns the rows that differ.
with

allocated as (
    select
        day, billing_currency,
        sum(case when cost_kind = 'estimated_unbilled' then estimated_cost else billed_cost end) as cost,
        sum(case when cost_kind = 'estimated_unbilled' then estimated_cost else effective_cost end) as effective_cost
    from marts.allocated_cost
    where cost_kind in ('tokens', 'capacity', 'estimated_unbilled')
    group by day, billing_currency
),

unit as (
    select day, billing_currency, sum(cost) as cost, sum(effective_cost) as effective_cost
    from marts.unit_cost
    group by day, billing_currency
),

per_day as (
    select
        'unit_cost' as mart,
        cast(coalesce(a.day, u.day) as varchar) as day,
        coalesce(a.billing_currency, u.billing_currency) as billing_currency,
        coalesce(a.cost, 0) as allocated_cost,
        coalesce(u.cost, 0) as mart_cost,
        coalesce(a.effective_cost, 0) as allocated_effective_cost,
        coalesce(u.effective_cost, 0) as mart_effective_cost
    from allocated as a
    full outer join unit as u on u.day = a.day and u.billing_currency = a.billing_currency
),

runs as (
    select billing_currency, sum(cost) as cost, sum(effective_cost) as effective_cost
    from marts.agent_runs
    group by billing_currency
),

allocated_total as (
    select billing_currency, sum(cost) as cost, sum(effective_cost) as effective_cost
    from allocated
    group by billing_currency
),

all_days as (
    select
        'agent_runs' as mart,
        'all days' as day,
        coalesce(a.billing_currency, r.billing_currency) as billing_currency,
        coalesce(a.cost, 0) as allocated_cost,
        coalesce(r.cost, 0) as mart_cost,
        coalesce(a.effective_cost, 0) as allocated_effective_cost,
        coalesce(r.effective_cost, 0) as mart_effective_cost
    from allocated_total as a
    full outer join runs as r on r.billing_currency = a.billing_currency
)

select * from (select * from per_day union all select * from all_days) as compared
where abs(allocated_cost - mart_cost) > 0.000001
    or abs(allocated_effective_cost - mart_effective_cost) > 0.000001
