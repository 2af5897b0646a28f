-- Each request's tokens by token type, priced from ref.price_book as of its usage date.
-- grain: source_format, request_id, token_type
-- materialized: view

-- A long view of intermediate.int_requests_priced, which prices the four token types side by side (one row per
-- request is four times fewer rows to write than one per token type). estimated_cost is 0 for zero tokens and null
-- where the type has no price; usd_per_million is the price chosen (see int_requests_priced for the choice).
with

requests as (
    select * from intermediate.int_requests_priced
),

final as (
    select source_format, request_id, usage_date, 'input' as token_type, input_tokens as tokens,
        input_usd_per_million as usd_per_million, input_cost as estimated_cost
    from requests
    union all
    select source_format, request_id, usage_date, 'output', output_tokens, output_usd_per_million, output_cost
    from requests
    union all
    select source_format, request_id, usage_date, 'cache_read', cache_read_tokens, cache_read_usd_per_million,
        cache_read_cost
    from requests
    union all
    select source_format, request_id, usage_date, 'cache_write', cache_write_tokens, cache_write_usd_per_million,
        cache_write_cost
    from requests
)

select * from final
