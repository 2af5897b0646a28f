-- Every dollar of the bill by day, currency, department, team, agent, model, environment, region and cost kind,
-- plus the estimates of requests no bill covers yet (cost_kind estimated_unbilled, billed and effective cost 0).
-- grain: day, billing_currency, department, team, agent, model, environment, region, cost_kind
-- materialized: table

-- cost_kind: tokens | capacity | idle | direct | shared_overhead | unallocated | estimated_unbilled. The reserved
-- values __unallocated__, __idle__ and __shared__ appear as both team and department. estimated_cost is the
-- price-book estimate in USD; billed_cost and effective_cost are in billing_currency and add up, per day and
-- currency, to staging.stg_cost_lines exactly (audit allocated_equals_billed).
with

genai as (
    select
        day, billing_currency, department, team, agent, model, environment, region, cost_kind,
        billed_cost, effective_cost, estimated_cost,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, request_key
    from intermediate.int_genai_allocated
),

shared as (
    select
        day, billing_currency, department, team, cast(null as varchar) as agent, cast(null as varchar) as model,
        environment, cast(null as varchar) as region, cost_kind,
        billed_cost, effective_cost, cast(null as decimal(38, 10)) as estimated_cost,
        0 as input_tokens, 0 as output_tokens, 0 as cache_read_tokens, 0 as cache_write_tokens,
        cast(null as varchar) as request_key
    from intermediate.int_shared_allocated
),

-- (request, token type) pairs that no bill line and no capacity resource accounts for
billed_pairs as (
    select claim_key from intermediate.int_genai_claims where cost_kind = 'tokens'
),

capacity_requests as (
    select distinct request_key from intermediate.int_genai_claims where cost_kind = 'capacity'
),

unbilled as (
    select
        r.usage_date as day,
        'USD' as billing_currency,
        r.department, r.team, r.agent, r.model, r.environment, r.region,
        'estimated_unbilled' as cost_kind,
        cast(0 as decimal(38, 10)) as billed_cost,
        cast(0 as decimal(38, 10)) as effective_cost,
        t.estimated_cost,
        case when t.token_type = 'input' then t.tokens else 0 end as input_tokens,
        case when t.token_type = 'output' then t.tokens else 0 end as output_tokens,
        case when t.token_type = 'cache_read' then t.tokens else 0 end as cache_read_tokens,
        case when t.token_type = 'cache_write' then t.tokens else 0 end as cache_write_tokens,
        r.source_format || '|' || r.request_id as request_key
    from intermediate.int_request_tokens as t
    inner join intermediate.int_requests_priced as r
        on r.source_format = t.source_format and r.request_id = t.request_id
    where t.tokens > 0
        and (t.source_format || '|' || t.request_id || '|' || t.token_type) not in (select claim_key from billed_pairs)
        and (r.source_format || '|' || r.request_id) not in (select request_key from capacity_requests)
),

all_rows as (
    select * from genai
    union all select * from shared
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
