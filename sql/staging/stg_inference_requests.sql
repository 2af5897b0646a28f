-- Inference requests with org attribution (team, department, environment from ref.org_rules) and price status.
-- grain: source_format, request_id
-- materialized: view

-- Org mapping: per attribute, the matching rule with the lowest (priority, rule_order) that sets it wins; else the
-- value the request itself carried; else the literal '__unmapped__' (never null, never dropped).
-- A request is 'priced' when ref.price_book has a price for its provider and model, in its region or '*', in force
-- on its usage date; 'unpriced' requests stay in every total and are counted in meta.loads.rows_unpriced.
with

requests as (
    select * from raw.inference_requests
),

org_rules as (
    select * from ref.org_rules
),

price_book as (
    select * from ref.price_book
),

-- Principal and API-key rules compare salted hashes (the warehouse holds no raw identity).
hashed_rule_matches as (
    select r.source_format, r.request_id, o.priority, o.rule_order, o.team, o.department, o.environment
    from requests as r
    inner join org_rules as o
        on o.match = 'principal' and o.pattern_hash = r.principal_hash
    union all
    select r.source_format, r.request_id, o.priority, o.rule_order, o.team, o.department, o.environment
    from requests as r
    inner join org_rules as o
        on o.match = 'api_key' and o.pattern_hash = r.api_key_hash
),

-- Glob rules: like_pattern is the glob as a LIKE pattern, literal % _ and \ escaped with a backslash.
glob_rule_matches as (
    select r.source_format, r.request_id, o.priority, o.rule_order, o.team, o.department, o.environment
    from requests as r
    inner join org_rules as o
        on case o.match
            when 'iam_role' then r.principal_role
            when 'metadata' then r.metadata[o.key]    -- DuckDB map lookup: null when the key is absent
            when 'account' then r.account_id
            when 'agent' then r.agent
            when 'application' then r.application
        end like o.like_pattern escape '\'
),

rule_matches as (
    select * from hashed_rule_matches
    union all
    select * from glob_rule_matches
),

-- Rank the matches once per attribute: rules that set the attribute first, then by precedence.
ranked_matches as (
    select
        source_format,
        request_id,
        team,
        department,
        environment,
        row_number() over (
            partition by source_format, request_id
            order by case when team is null then 1 else 0 end, priority, rule_order
        ) as team_rank,
        row_number() over (
            partition by source_format, request_id
            order by case when department is null then 1 else 0 end, priority, rule_order
        ) as department_rank,
        row_number() over (
            partition by source_format, request_id
            order by case when environment is null then 1 else 0 end, priority, rule_order
        ) as environment_rank
    from rule_matches
),

mapped as (
    select
        source_format,
        request_id,
        max(case when team_rank = 1 then team end) as team,
        max(case when department_rank = 1 then department end) as department,
        max(case when environment_rank = 1 then environment end) as environment
    from ranked_matches
    group by source_format, request_id
),

final as (
    select
        r.source_format,
        r.request_id,
        r.occurred_at,
        cast(r.occurred_at as date) as usage_date,
        r.trace_id,
        r.span_id,
        r.parent_span_id,
        r.agent,
        r.application,
        r.operation,
        r.principal_hash,
        r.principal_role,
        r.api_key_hash,
        coalesce(m.team, nullif(trim(r.team), ''), '__unmapped__') as team,
        coalesce(m.department, nullif(trim(r.department), ''), '__unmapped__') as department,
        coalesce(m.environment, nullif(trim(r.environment), ''), '__unmapped__') as environment,
        case
            when m.team is not null then 'rule'
            when nullif(trim(r.team), '') is not null then 'request'
            else 'unmapped'
        end as team_source,
        r.region,
        r.account_id,
        r.provider,
        r.model_id,
        r.model,
        r.model_version,
        r.input_tokens,
        r.output_tokens,
        r.cache_read_tokens,
        r.cache_write_tokens,
        r.input_tokens + r.cache_read_tokens + r.cache_write_tokens as total_input_tokens,
        r.reasoning_tokens,
        r.latency_ms,
        r.ttft_ms,
        r.status,
        r.error_class,
        r.finish_reason,
        r.service_tier,
        r.task_type,
        r.quality_score,
        r.reported_cost,
        case
            when exists (
                select 1
                from price_book as p
                where p.provider = r.provider
                    and p.model = r.model
                    and p.region in (r.region, '*')
                    and p.effective_from <= cast(r.occurred_at as date)
                    and (p.effective_to is null or p.effective_to > cast(r.occurred_at as date))
            ) then 'priced'
            else 'unpriced'
        end as price_status,
        r.metadata,
        r._load_id,
        r._source_object,
        r._source_line
    from requests as r
    left join mapped as m
        on m.source_format = r.source_format and m.request_id = r.request_id
)

select * from final
