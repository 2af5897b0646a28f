-- Each request with its estimated cost from the price book (input, output, cache read, cache write priced apart).
-- grain: source_format, request_id
-- materialized: table
-- incremental: usage_date

-- A request is 'priced' only when every token type it used has a price; otherwise estimated_cost stays null and
-- price_status is 'unpriced' (the known parts stay in the per-type columns). Estimates are USD.
-- input_tokens is UNCACHED input already, so the four types never overlap. Price choice per (request, token type):
-- the region's own price before '*', then the batch price when service_tier = 'batch' (falling back to the
-- standard one), then the latest effective_from. Money is never divided: a per-token price is
-- usd_per_million * 0.000001 (decimal multiplication keeps the scale) and cost = tokens * that, cast to (38, 10).
--
-- Speed: prices are chosen once per distinct (provider, model, region, usage date, service tier) and token type -- a
-- few thousand keys -- and joined to the requests by equality, instead of ranking price candidates per request.
-- Incremental: only the days in meta.build_scope are (re)computed (see docs/warehouse.md, "Incremental build").
with

requests as (
    select * from staging.stg_inference_requests
    where usage_date in (select day from meta.build_scope)
),

price_keys as (
    select distinct provider, model, region, usage_date, service_tier
    from requests
),

token_types as (
    select 'input' as token_type
    union all select 'output'
    union all select 'cache_read'
    union all select 'cache_write'
),

candidates as (
    select
        k.provider,
        k.model,
        k.region,
        k.usage_date,
        k.service_tier,
        t.token_type,
        p.usd_per_million,
        row_number() over (
            partition by k.provider, k.model, k.region, k.usage_date, k.service_tier, t.token_type
            order by
                case when p.region = '*' then 1 else 0 end,
                case when p.token_type = t.token_type then 1 else 0 end,
                p.effective_from desc,
                p.usd_per_million    -- only breaks exact duplicates, so rebuilds are deterministic
        ) as price_rank
    from price_keys as k
    cross join token_types as t
    inner join ref.price_book as p
        on p.provider = k.provider
        and p.model = k.model
        and p.region in (k.region, '*')
        and (
            p.token_type = t.token_type
            or (k.service_tier = 'batch' and p.token_type = 'batch_' || t.token_type)
        )
        and p.effective_from <= k.usage_date
        and (p.effective_to is null or p.effective_to > k.usage_date)
),

key_prices as (
    select
        provider, model, region, usage_date, service_tier,
        max(case when token_type = 'input' then usd_per_million end) as input_usd_per_million,
        max(case when token_type = 'output' then usd_per_million end) as output_usd_per_million,
        max(case when token_type = 'cache_read' then usd_per_million end) as cache_read_usd_per_million,
        max(case when token_type = 'cache_write' then usd_per_million end) as cache_write_usd_per_million
    from candidates
    where price_rank = 1
    group by provider, model, region, usage_date, service_tier
),

-- The exact per-token price (usd_per_million x 0.000001, scale 16) in an 18-digit decimal, which DuckDB multiplies
-- in 64-bit integers -- about 50 times faster than 38-digit decimals. Used only where the product provably fits
-- (cost under 90 USD for that request and token type, checked with a double); larger costs take the 38-digit path.
-- Both are exact and round the same way, so the result does not depend on the path.
key_unit_prices as (
    select
        *,
        case when input_usd_per_million < 90000000
            then cast(input_usd_per_million * cast(0.000001 as decimal(7, 6)) as decimal(18, 16)) end as input_unit,
        case when output_usd_per_million < 90000000
            then cast(output_usd_per_million * cast(0.000001 as decimal(7, 6)) as decimal(18, 16)) end as output_unit,
        case when cache_read_usd_per_million < 90000000
            then cast(cache_read_usd_per_million * cast(0.000001 as decimal(7, 6)) as decimal(18, 16)) end as cache_read_unit,
        case when cache_write_usd_per_million < 90000000
            then cast(cache_write_usd_per_million * cast(0.000001 as decimal(7, 6)) as decimal(18, 16)) end as cache_write_unit,
        cast(input_usd_per_million as double) as input_usd_approx,
        cast(output_usd_per_million as double) as output_usd_approx,
        cast(cache_read_usd_per_million as double) as cache_read_usd_approx,
        cast(cache_write_usd_per_million as double) as cache_write_usd_approx
    from key_prices
),

token_costs as (
    select
        -- metadata (a map of caller tags) stays in staging: it is only needed for org mapping, which is done there,
        -- and carrying it through would double the bytes this table writes.
        r.* exclude (price_status, metadata),    -- DuckDB-only: star with exclude
        u.input_usd_per_million,
        u.output_usd_per_million,
        u.cache_read_usd_per_million,
        u.cache_write_usd_per_million,
        case
            when r.input_tokens = 0 then cast(0 as decimal(38, 10))
            when r.input_tokens * u.input_usd_approx < 90000000 and abs(r.input_tokens) < 100000000000000000
                then cast(cast(r.input_tokens as decimal(18, 0)) * u.input_unit as decimal(38, 10))
            else cast(cast(r.input_tokens as decimal(38, 0))
                      * (u.input_usd_per_million * cast(0.000001 as decimal(7, 6))) as decimal(38, 10))
        end as input_cost,
        case
            when r.output_tokens = 0 then cast(0 as decimal(38, 10))
            when r.output_tokens * u.output_usd_approx < 90000000 and abs(r.output_tokens) < 100000000000000000
                then cast(cast(r.output_tokens as decimal(18, 0)) * u.output_unit as decimal(38, 10))
            else cast(cast(r.output_tokens as decimal(38, 0))
                      * (u.output_usd_per_million * cast(0.000001 as decimal(7, 6))) as decimal(38, 10))
        end as output_cost,
        case
            when r.cache_read_tokens = 0 then cast(0 as decimal(38, 10))
            when r.cache_read_tokens * u.cache_read_usd_approx < 90000000 and abs(r.cache_read_tokens) < 100000000000000000
                then cast(cast(r.cache_read_tokens as decimal(18, 0)) * u.cache_read_unit as decimal(38, 10))
            else cast(cast(r.cache_read_tokens as decimal(38, 0))
                      * (u.cache_read_usd_per_million * cast(0.000001 as decimal(7, 6))) as decimal(38, 10))
        end as cache_read_cost,
        case
            when r.cache_write_tokens = 0 then cast(0 as decimal(38, 10))
            when r.cache_write_tokens * u.cache_write_usd_approx < 90000000 and abs(r.cache_write_tokens) < 100000000000000000
                then cast(cast(r.cache_write_tokens as decimal(18, 0)) * u.cache_write_unit as decimal(38, 10))
            else cast(cast(r.cache_write_tokens as decimal(38, 0))
                      * (u.cache_write_usd_per_million * cast(0.000001 as decimal(7, 6))) as decimal(38, 10))
        end as cache_write_cost
    from requests as r
    left join key_unit_prices as u
        on u.provider = r.provider
        and u.model = r.model
        and u.region is not distinct from r.region
        and u.usage_date = r.usage_date
        and u.service_tier is not distinct from r.service_tier
),

final as (
    select
        * exclude (input_usd_per_million, output_usd_per_million, cache_read_usd_per_million,
                   cache_write_usd_per_million),
        case
            when input_cost is not null and output_cost is not null and cache_read_cost is not null
                and cache_write_cost is not null
                then cast(input_cost + output_cost + cache_read_cost + cache_write_cost as decimal(38, 10))
        end as estimated_cost,
        case
            when input_cost is not null and output_cost is not null and cache_read_cost is not null
                and cache_write_cost is not null then 'priced'
            else 'unpriced'
        end as price_status,
        input_usd_per_million,
        output_usd_per_million,
        cache_read_usd_per_million,
        cache_write_usd_per_million
    from token_costs
)

select * from final
