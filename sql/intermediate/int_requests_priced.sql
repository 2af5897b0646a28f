-- Each request with its estimated cost from the price book (input, output, cache read, cache write priced apart).
-- grain: source_format, request_id
-- materialized: table

-- A request is 'priced' only when every token type it used has a price; otherwise estimated_cost stays null and
-- price_status is 'unpriced' (the known parts stay in the per-type columns). Estimates are USD.
with

requests as (
    select * from staging.stg_inference_requests
),

token_costs as (
    select
        source_format,
        request_id,
        max(case when token_type = 'input' then estimated_cost end) as input_cost,
        max(case when token_type = 'output' then estimated_cost end) as output_cost,
        max(case when token_type = 'cache_read' then estimated_cost end) as cache_read_cost,
        max(case when token_type = 'cache_write' then estimated_cost end) as cache_write_cost,
        count(*) filter (where estimated_cost is null) as unpriced_types,
        sum(estimated_cost) as priced_part
    from intermediate.int_request_tokens
    group by source_format, request_id
),

final as (
    select
        r.* exclude (price_status),    -- DuckDB-only: star with exclude
        c.input_cost,
        c.output_cost,
        c.cache_read_cost,
        c.cache_write_cost,
        case when c.unpriced_types = 0 then cast(c.priced_part as decimal(38, 10)) end as estimated_cost,
        case when c.unpriced_types = 0 then 'priced' else 'unpriced' end as price_status
    from requests as r
    inner join token_costs as c
        on c.source_format = r.source_format and c.request_id = r.request_id
)

select * from final
