-- Request token usage that no bill line and no capacity resource accounts for: the bill has not arrived yet, or the
-- provider bills elsewhere (e.g. OpenAI through a gateway). These keep their price-book estimate.
-- grain: source_format, request_id, token_type
-- materialized: table
-- incremental: usage_date

-- Read by marts.allocated_cost (cost_kind estimated_unbilled) and marts.reconciliation ('requests only'), so it is
-- computed once. Anti-joins on the key columns (not on concatenated strings). Incremental: claims on a scope day's
-- requests come from pots whose day is in the scope too (the scope is closed over pot periods).
with

requests as (
    select *, date_trunc('hour', occurred_at) as usage_hour
    from intermediate.int_requests_priced
    where usage_date in (select day from meta.build_scope)
),

token_rows as (
    select usage_date, usage_hour, source_format, request_id, department, team, agent, model, environment,
        region, account_id, 'input' as token_type, input_tokens as tokens,
        input_cost as estimated_cost
    from requests
    union all
    select usage_date, usage_hour, source_format, request_id, department, team, agent, model, environment,
        region, account_id, 'output', output_tokens, output_cost
    from requests
    union all
    select usage_date, usage_hour, source_format, request_id, department, team, agent, model, environment,
        region, account_id, 'cache_read', cache_read_tokens, cache_read_cost
    from requests
    union all
    select usage_date, usage_hour, source_format, request_id, department, team, agent, model, environment,
        region, account_id, 'cache_write', cache_write_tokens, cache_write_cost
    from requests
),

claims as (
    select source_format, request_id, token_type, cost_kind
    from intermediate.int_genai_claims
    where day in (select day from meta.build_scope)
        and cost_kind in ('tokens', 'capacity')
),

final as (
    select t.*
    from token_rows as t
    where t.tokens > 0
        and not exists (
            select 1 from claims as c
            where c.cost_kind = 'tokens'
                and c.source_format = t.source_format
                and c.request_id = t.request_id
                and c.token_type = t.token_type
        )
        and not exists (
            select 1 from claims as c
            where c.cost_kind = 'capacity'
                and c.source_format = t.source_format
                and c.request_id = t.request_id
        )
)

select * from final
