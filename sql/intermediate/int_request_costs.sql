-- Each request's cost: its reconciled share of the bill where a bill covers it, else its price-book estimate.
-- grain: request_key, day, billing_currency
-- materialized: table
-- incremental: day

-- Billed parts come from int_genai_allocated (token and capacity claims, already scaled so each pot adds up to its
-- bill lines exactly), on the pot's day and in the bill's currency. Token types no bill covers yet keep their
-- estimate (USD, on the usage day), the same pairs marts.allocated_cost shows as estimated_unbilled, so per day and
-- currency these rows add up to that mart's request-driven spend (audit unit_cost_equals_allocated). A request
-- with neither (a failed call with no tokens) gets one zero USD row so every call is counted somewhere.
-- cost_basis: billed | estimated | partly estimated | no tokens.
-- Incremental: every source is day-partitioned and a request's rows fall on its own day or on the day of the pot that
-- billed it, which the build scope always holds too (the scope covers every day of a pot's charge period).
with

requests as (
    select source_format || '|' || request_id as request_key, usage_date
    from intermediate.int_requests_priced
    where usage_date in (select day from meta.build_scope)
),

billed as (
    select
        request_key, day, billing_currency,
        billed_cost as cost,
        effective_cost,
        cast(0 as decimal(38, 10)) as unbilled_estimate,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
    from intermediate.int_genai_allocated
    where request_key is not null and day in (select day from meta.build_scope)
),

-- the same (request, token type) pairs as marts.allocated_cost's estimated_unbilled rows, computed once upstream
unbilled as (
    select
        source_format || '|' || request_id as request_key,
        usage_date as day,
        'USD' as billing_currency,
        estimated_cost as cost,
        estimated_cost as effective_cost,
        estimated_cost as unbilled_estimate,
        case when token_type = 'input' then tokens else 0 end as input_tokens,
        case when token_type = 'output' then tokens else 0 end as output_tokens,
        case when token_type = 'cache_read' then tokens else 0 end as cache_read_tokens,
        case when token_type = 'cache_write' then tokens else 0 end as cache_write_tokens
    from intermediate.int_unbilled_tokens
    where usage_date in (select day from meta.build_scope)
),

parts as (
    select *, 1 as is_billed from billed
    union all
    select *, 0 as is_billed from unbilled
),

costed as (
    select
        request_key, day, billing_currency,
        cast(sum(cost) as decimal(38, 10)) as cost,
        cast(sum(effective_cost) as decimal(38, 10)) as effective_cost,
        cast(sum(unbilled_estimate) as decimal(38, 10)) as unbilled_estimate,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_tokens) as cache_write_tokens,
        case
            when min(is_billed) = 1 then 'billed'
            when max(is_billed) = 0 then 'estimated'
            else 'partly estimated'
        end as cost_basis
    from parts
    group by request_key, day, billing_currency
),

no_tokens as (
    select
        q.request_key, q.usage_date as day, 'USD' as billing_currency,
        cast(0 as decimal(38, 10)) as cost,
        cast(0 as decimal(38, 10)) as effective_cost,
        cast(0 as decimal(38, 10)) as unbilled_estimate,
        0 as input_tokens, 0 as output_tokens, 0 as cache_read_tokens, 0 as cache_write_tokens,
        'no tokens' as cost_basis
    from requests as q
    where not exists (select 1 from costed as c where c.request_key = q.request_key)
),

final as (
    select * from costed
    union all
    select * from no_tokens
)

select * from final
