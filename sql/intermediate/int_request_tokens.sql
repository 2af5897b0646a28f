-- Each request's tokens by token type, priced from ref.price_book as of its usage date.
-- grain: source_format, request_id, token_type
-- materialized: table

-- input_tokens is UNCACHED input already, so the four types never overlap. Price choice per (request, token type):
-- the region's own price before '*', then the batch price when service_tier = 'batch' (falling back to the
-- standard one), then the latest effective_from. Money is never divided: a per-token price is
-- usd_per_million * 0.000001 (decimal multiplication keeps the scale) and cost = tokens * that, cast to (38, 10).
with

requests as (
    select * from staging.stg_inference_requests
),

token_rows as (
    select source_format, request_id, 'input' as token_type, input_tokens as tokens from requests
    union all
    select source_format, request_id, 'output', output_tokens from requests
    union all
    select source_format, request_id, 'cache_read', cache_read_tokens from requests
    union all
    select source_format, request_id, 'cache_write', cache_write_tokens from requests
),

candidates as (
    select
        t.source_format,
        t.request_id,
        t.token_type,
        p.usd_per_million,
        row_number() over (
            partition by t.source_format, t.request_id, t.token_type
            order by
                case when p.region = '*' then 1 else 0 end,
                case when p.token_type = t.token_type then 1 else 0 end,
                p.effective_from desc
        ) as price_rank
    from token_rows as t
    inner join requests as r
        on r.source_format = t.source_format and r.request_id = t.request_id
    inner join ref.price_book as p
        on p.provider = r.provider
        and p.model = r.model
        and p.region in (r.region, '*')
        and (
            p.token_type = t.token_type
            or (r.service_tier = 'batch' and p.token_type = 'batch_' || t.token_type)
        )
        and p.effective_from <= r.usage_date
        and (p.effective_to is null or p.effective_to > r.usage_date)
),

final as (
    select
        t.source_format,
        t.request_id,
        t.token_type,
        t.tokens,
        c.usd_per_million,
        case
            when t.tokens = 0 then cast(0 as decimal(38, 10))
            when c.usd_per_million is null then null
            else cast(
                cast(t.tokens as decimal(38, 0)) * (c.usd_per_million * cast(0.000001 as decimal(7, 6)))
                as decimal(38, 10))
        end as estimated_cost
    from token_rows as t
    left join candidates as c
        on c.source_format = t.source_format
        and c.request_id = t.request_id
        and c.token_type = t.token_type
        and c.price_rank = 1
)

select * from final
