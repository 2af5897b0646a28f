-- Every dollar of the bill by day, currency, department, team, agent, model, environment, region and cost kind,
-- plus the estimates of requests no bill covers yet (cost_kind estimated_unbilled, billed and effective cost 0).
-- grain: day, billing_currency, department, team, agent, model, environment, region, cost_kind
-- materialized: table

-- cost_kind: tokens | capacity | idle | direct | shared_overhead | unallocated | estimated_unbilled. The reserved
-- values __unallocated__, __idle__ and __shared__ appear as both team and department. estimated_cost is the
-- price-book estimate in USD; billed_cost and effective_cost are in billing_currency and add up, per day and
-- currency, to staging.stg_cost_lines exactly (audit allocated_equals_billed).
-- Built from intermediate.int_allocated_daily (GenAI allocation and unbilled estimates, kept day by day) plus the
-- shared overhead: the two never share a group (shared rows are cost_kind shared_overhead only).
with

daily as (
    select * from intermediate.int_allocated_daily
),

shared as (
    select
        day, billing_currency, department, team, cast(null as varchar) as agent, cast(null as varchar) as model,
        environment, cast(null as varchar) as region, cost_kind,
        cast(sum(billed_cost) as decimal(38, 10)) as billed_cost,
        cast(sum(effective_cost) as decimal(38, 10)) as effective_cost,
        cast(null as decimal(38, 10)) as estimated_cost,
        sum(0) as input_tokens,
        sum(0) as output_tokens,
        sum(0) as cache_read_tokens,
        sum(0) as cache_write_tokens,
        cast(0 as bigint) as requests
    from intermediate.int_shared_allocated
    group by day, billing_currency, department, team, environment, cost_kind
),

final as (
    select * from daily
    union all
    select * from shared
)

select * from final
