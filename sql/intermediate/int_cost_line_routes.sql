-- Every billing cost line routed to exactly one allocation path, with the pot (pool of cost) it joins.
-- grain: line_key
-- materialized: table
-- incremental: charge_date

-- Routes, first that applies wins:
--   tokens       Bedrock on-demand token usage (usage type <PREFIX>-<model token>-<token suffix>) whose model token
--                is in ref.bedrock_usage_types; pot = (charge period, account, region, model, token type, currency)
--   unallocated  token usage whose model token is unknown, or GenAI usage that nothing else claims
--   capacity     usage of a resource matching a [[capacity]] rule (ref.capacity); pot = the line (a resource-hour)
--   direct       a line tagged to a team (stg_cost_lines team from tag/account rules); pot = the line
--   shared_rule  a line matching a [[shared_costs]] rule; pot = (charge period, currency, rule)
--   shared       anything else: the explicit __shared__ bucket
with

lines as (
    select
        dataset || '|' || cast(billing_period as varchar) || '|' || _source_object || '|'
            || coalesce(cast(_source_row as varchar), '') as line_key,
        *
    from staging.stg_cost_lines
    where charge_date in (select day from meta.build_scope)
),

-- DuckDB-only: regexp_extract with a capture-group index. The region prefix is optional (some usage types omit it).
parsed as (
    select
        line_key,
        nullif(regexp_extract(usage_type, '^([A-Z]{2,4}[0-9]?)-.+-(input-tokens|output-tokens|cache-read-input-token-count|cache-write-input-token-count)$', 1), '') as region_prefix,
        nullif(regexp_extract(usage_type, '^(?:[A-Z]{2,4}[0-9]?-)?(.+)-(input-tokens|output-tokens|cache-read-input-token-count|cache-write-input-token-count)$', 1), '') as usage_model,
        nullif(regexp_extract(usage_type, '-(input-tokens|output-tokens|cache-read-input-token-count|cache-write-input-token-count)$', 1), '') as token_suffix
    from lines
    where service_code like 'AmazonBedrock%' and charge_category = 'Usage'
),

token_lines as (
    select
        p.line_key,
        coalesce(rp.region, l.region_id) as usage_region,
        u.provider,
        u.model,
        p.usage_model,
        case p.token_suffix
            when 'input-tokens' then 'input'
            when 'output-tokens' then 'output'
            when 'cache-read-input-token-count' then 'cache_read'
            when 'cache-write-input-token-count' then 'cache_write'
        end as token_type
    from parsed as p
    inner join lines as l on l.line_key = p.line_key
    left join ref.aws_region_prefixes as rp on rp.prefix = p.region_prefix
    left join ref.bedrock_usage_types as u on u.usage_model = p.usage_model
    where p.token_suffix is not null
),

capacity_matches as (
    select l.line_key, c.rule_order, row_number() over (partition by l.line_key order by c.rule_order) as rule_rank
    from lines as l
    inner join ref.capacity as c on l.resource_id like c.resource_like escape '\'
    where l.charge_category = 'Usage'
),

shared_matches as (
    select l.line_key, s.name, row_number() over (partition by l.line_key order by s.rule_order) as rule_rank
    from lines as l
    inner join ref.shared_costs as s
        on case s.match
            when 'service_code' then l.service_code
            when 'charge_category' then l.charge_category
            when 'usage_type' then l.usage_type
        end like s.like_pattern escape '\'
),

routed as (
    select
        l.*,
        t.usage_region,
        t.provider as usage_provider,
        t.model as usage_model,
        t.token_type,
        c.rule_order as capacity_rule,
        s.name as shared_rule,
        case
            when t.line_key is not null and t.model is not null then 'tokens'
            when t.line_key is not null then 'unallocated'
            when c.line_key is not null then 'capacity'
            when l.team <> '__unmapped__' then 'direct'
            when l.is_genai and l.charge_category = 'Usage' then 'unallocated'
            when s.line_key is not null then 'shared_rule'
            else 'shared'
        end as route,
        case
            when t.line_key is not null and t.model is null
                then 'usage type model ' || t.usage_model || ' not in ref.bedrock_usage_types'
            when t.line_key is null and c.line_key is null and l.team = '__unmapped__'
                and l.is_genai and l.charge_category = 'Usage'
                then 'capacity resource not configured'
        end as unallocated_reason
    from lines as l
    left join token_lines as t on t.line_key = l.line_key
    left join capacity_matches as c on c.line_key = l.line_key and c.rule_rank = 1
    left join shared_matches as s on s.line_key = l.line_key and s.rule_rank = 1
),

final as (
    select
        *,
        case route
            when 'tokens' then 'tokens|' || cast(charge_period_start as varchar) || '|'
                || cast(charge_period_end as varchar) || '|' || coalesce(sub_account_id, '') || '|'
                || coalesce(usage_region, '') || '|' || usage_model || '|' || token_type || '|' || billing_currency
            when 'shared_rule' then 'shared|' || cast(charge_period_start as varchar) || '|'
                || cast(charge_period_end as varchar) || '|' || billing_currency || '|' || shared_rule
            else route || '|' || line_key
        end as pot_id
    from routed
)

select * from final
