-- The GenAI allocation and the unbilled estimates at the grain of marts.allocated_cost, day by day.
-- grain: day, billing_currency, department, team, agent, model, environment, region, cost_kind
-- materialized: table
-- incremental: day

-- Everything in marts.allocated_cost except shared overhead (whose pots span a whole charge period, e.g. a monthly
-- tax line, so it is recomputed in full). Kept as its own day-partitioned table so an incremental build only
-- re-aggregates the days in meta.build_scope; the mart then just adds the (small) shared rows.
with

genai as (
    select
        day, billing_currency, department, team, agent, model, environment, region, cost_kind,
        billed_cost, effective_cost, estimated_cost,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, request_key
    from intermediate.int_genai_allocated
    where day in (select day from meta.build_scope)
),

unbilled as (
    select
        usage_date as day,
        'USD' as billing_currency,
        department, team, agent, model, environment, region,
        'estimated_unbilled' as cost_kind,
        cast(0 as decimal(38, 10)) as billed_cost,
        cast(0 as decimal(38, 10)) as effective_cost,
        estimated_cost,
        case when token_type = 'input' then tokens else 0 end as input_tokens,
        case when token_type = 'output' then tokens else 0 end as output_tokens,
        case when token_type = 'cache_read' then tokens else 0 end as cache_read_tokens,
        case when token_type = 'cache_write' then tokens else 0 end as cache_write_tokens,
        source_format || '|' || request_id as request_key
    from intermediate.int_unbilled_tokens
    where usage_date in (select day from meta.build_scope)
),

all_rows as (
    select * from genai
    union all select * from unbilled
),

final as (
    select
        day, billing_currency, department, team, agent, model, environment, region, cost_kind,
        cast(sum(billed_cost) as decimal(38, 10)) as billed_cost,
        cast(sum(effective_cost) as decimal(38, 10)) as effective_cost,
        cast(sum(estimated_cost) as decimal(38, 10)) as estimated_cost,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_tokens) as cache_write_tokens,
        count(distinct request_key) as requests
    from all_rows
    group by day, billing_currency, department, team, agent, model, environment, region, cost_kind
)

select * from final
