-- Request token usage that no bill line and no capacity resource accounts for: the bill has not arrived yet, or the
-- provider bills elsewhere (e.g. OpenAI through a gateway). These keep their price-book estimate.
-- grain: source_format, request_id, token_type
-- materialized: table
-- incremental: usage_date

-- Read by marts.allocated_cost (cost_kind estimated_unbilled) and marts.reconciliation ('requests only'), so it is
-- computed once. Incremental: claims on a scope day's requests come from pots whose day is in the scope too (the
-- scope is closed over pot periods).
-- Speed: the claims are folded once into one row per claimed request with a flag per token type, and each request is
-- joined to that once, instead of two anti-joins of every (request, token type) row against every claim (those cost
-- 21-43 s at 5M requests, for a table that is empty when every request is billed).
with

claimed as (
    select
        source_format,
        request_id,
        bool_or(cost_kind = 'capacity') as by_capacity,
        bool_or(cost_kind = 'tokens' and token_type = 'input') as input_claimed,
        bool_or(cost_kind = 'tokens' and token_type = 'output') as output_claimed,
        bool_or(cost_kind = 'tokens' and token_type = 'cache_read') as cache_read_claimed,
        bool_or(cost_kind = 'tokens' and token_type = 'cache_write') as cache_write_claimed
    from intermediate.int_genai_claims
    where day in (select day from meta.build_scope)
        and cost_kind in ('tokens', 'capacity')
    group by source_format, request_id
),

-- a request's token types that neither a token bill line nor a capacity hour claimed
requests as (
    select
        r.*,
        date_trunc('hour', r.occurred_at) as usage_hour,
        coalesce(c.by_capacity, false) as by_capacity,
        coalesce(c.input_claimed, false) as input_claimed,
        coalesce(c.output_claimed, false) as output_claimed,
        coalesce(c.cache_read_claimed, false) as cache_read_claimed,
        coalesce(c.cache_write_claimed, false) as cache_write_claimed
    from intermediate.int_requests_priced as r
    left join claimed as c on c.source_format = r.source_format and c.request_id = r.request_id
    where r.usage_date in (select day from meta.build_scope)
),

final as (
    select usage_date, usage_hour, source_format, request_id, department, team, agent, model, environment,
        region, account_id, 'input' as token_type, input_tokens as tokens,
        input_cost as estimated_cost
    from requests
    where input_tokens > 0 and not by_capacity and not input_claimed
    union all
    select usage_date, usage_hour, source_format, request_id, department, team, agent, model, environment,
        region, account_id, 'output', output_tokens, output_cost
    from requests
    where output_tokens > 0 and not by_capacity and not output_claimed
    union all
    select usage_date, usage_hour, source_format, request_id, department, team, agent, model, environment,
        region, account_id, 'cache_read', cache_read_tokens, cache_read_cost
    from requests
    where cache_read_tokens > 0 and not by_capacity and not cache_read_claimed
    union all
    select usage_date, usage_hour, source_format, request_id, department, team, agent, model, environment,
        region, account_id, 'cache_write', cache_write_tokens, cache_write_cost
    from requests
    where cache_write_tokens > 0 and not by_capacity and not cache_write_claimed
)

select * from final
