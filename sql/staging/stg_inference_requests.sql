-- Inference requests with org attribution (team, department, environment from ref.org_rules) and price status.
-- grain: source_format, request_id
-- materialized: view

-- Org mapping: per attribute, the matching rule with the lowest (priority, rule_order) that sets it wins; else the
-- value the request itself carried; else the literal '__unmapped__' (never null, never dropped).
-- A request is 'priced' when ref.price_book has a price for its provider and model, in its region or '*', in force
-- on its usage date; 'unpriced' requests stay in every total and are counted in meta.loads.rows_unpriced.
--
-- Speed: rules are matched once per distinct *signature* (the attributes rules can look at), not once per request,
-- and price status once per distinct (provider, model, region, day). Millions of requests share a few thousand
-- signatures, so the LIKE matching and ranking run on a small table and one equality join maps every request.
with

org_rules as (
    select * from ref.org_rules
),

price_book as (
    select * from ref.price_book
),

-- the metadata keys any rule reads (only their values are part of a signature)
metadata_keys as (
    select coalesce(list(distinct key order by key), []) as keys
    from org_rules
    where match = 'metadata'
),

-- DuckDB-only: list_transform with a lambda, map lookup (null when the key is absent).
signatures as (
    select distinct
        r.principal_hash, r.api_key_hash, r.principal_role, r.account_id, r.agent, r.application,
        list_transform(k.keys, x -> r.metadata[x]) as metadata_values
    from raw.inference_requests as r
    cross join metadata_keys as k
),

-- Principal and API-key rules compare salted hashes (the warehouse holds no raw identity).
-- Glob rules: like_pattern is the glob as a LIKE pattern, literal % _ and \ escaped with a backslash.
rule_matches as (
    select s.*, o.priority, o.rule_order, o.team, o.department, o.environment
    from signatures as s
    inner join org_rules as o
        on (o.match = 'principal' and o.pattern_hash = s.principal_hash)
        or (o.match = 'api_key' and o.pattern_hash = s.api_key_hash)
        or (o.match not in ('principal', 'api_key') and case o.match
            when 'iam_role' then s.principal_role
            when 'metadata' then s.metadata_values[list_position((select keys from metadata_keys), o.key)]
            when 'account' then s.account_id
            when 'agent' then s.agent
            when 'application' then s.application
        end like o.like_pattern escape '\')
),

-- Rank the matches once per attribute: rules that set the attribute first, then by precedence.
ranked_matches as (
    select
        *,
        row_number() over (
            partition by principal_hash, api_key_hash, principal_role, account_id, agent, application, metadata_values
            order by case when team is null then 1 else 0 end, priority, rule_order
        ) as team_rank,
        row_number() over (
            partition by principal_hash, api_key_hash, principal_role, account_id, agent, application, metadata_values
            order by case when department is null then 1 else 0 end, priority, rule_order
        ) as department_rank,
        row_number() over (
            partition by principal_hash, api_key_hash, principal_role, account_id, agent, application, metadata_values
            order by case when environment is null then 1 else 0 end, priority, rule_order
        ) as environment_rank
    from rule_matches
),

mapped_signatures as (
    select
        principal_hash, api_key_hash, principal_role, account_id, agent, application, metadata_values,
        max(case when team_rank = 1 then team end) as team,
        max(case when department_rank = 1 then department end) as department,
        max(case when environment_rank = 1 then environment end) as environment
    from ranked_matches
    group by principal_hash, api_key_hash, principal_role, account_id, agent, application, metadata_values
),

-- price status once per (provider, model, region, usage date)
price_keys as (
    select distinct provider, model, region, cast(occurred_at as date) as usage_date
    from raw.inference_requests
),

priced_keys as (
    select distinct k.provider, k.model, k.region, k.usage_date
    from price_keys as k
    inner join price_book as p
        on p.provider = k.provider
        and p.model = k.model
        and p.region in (k.region, '*')
        and p.effective_from <= k.usage_date
        and (p.effective_to is null or p.effective_to > k.usage_date)
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
        case when pk.model is not null then 'priced' else 'unpriced' end as price_status,
        r.metadata,
        r._load_id,
        r._source_object,
        r._source_line
    from raw.inference_requests as r
    cross join metadata_keys as k
    left join mapped_signatures as m
        on m.principal_hash is not distinct from r.principal_hash
        and m.api_key_hash is not distinct from r.api_key_hash
        and m.principal_role is not distinct from r.principal_role
        and m.account_id is not distinct from r.account_id
        and m.agent is not distinct from r.agent
        and m.application is not distinct from r.application
        and m.metadata_values is not distinct from list_transform(k.keys, x -> r.metadata[x])
    left join priced_keys as pk
        on pk.provider = r.provider
        and pk.model = r.model
        and pk.region is not distinct from r.region
        and pk.usage_date = cast(r.occurred_at as date)
)

select * from final
