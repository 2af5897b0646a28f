-- Claims on the GenAI pots (token usage, capacity hours, unattributable GenAI lines, team-tagged lines): who gets a
-- share of each pot, with an integer weight. int_genai_allocated turns weights into exact amounts.
-- grain: pot_id, claim_key
-- materialized: table
-- incremental: day

-- Weights are integers (HUGEINT) so apportionment can be exact: token claims weigh their estimate in units of
-- 1e-10 USD (their tokens when any request of the pot is unpriced); capacity claims weigh tokens or busy
-- milliseconds times 3600, and the idle claim the unused capacity on the same scale (capacity_per_hour x seconds).
with

-- Incremental: pots of the days in meta.build_scope. A pot's lines share one charge period (so one charge_date), and
-- the scope always holds every day a pot's period covers, so its requests are all in scope too.
routes as (
    select * from intermediate.int_cost_line_routes
    where charge_date in (select day from meta.build_scope)
),

pots as (
    select
        pot_id,
        route,
        min(charge_date) as day,
        min(charge_period_start) as period_start,
        max(charge_period_end) as period_end,
        billing_currency,
        max(sub_account_id) as account_id,
        max(usage_region) as region,
        max(usage_model) as model,
        max(token_type) as token_type,
        max(capacity_rule) as capacity_rule,
        max(team) as team,
        max(department) as department,
        max(environment) as environment,
        max(region_id) as line_region,
        max(unallocated_reason) as unallocated_reason,
        bool_or(is_genai) as is_genai,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost
    from routes
    where route in ('tokens', 'capacity', 'direct', 'unallocated')
    group by pot_id, route, billing_currency
),

requests as (
    select *, date_trunc('hour', occurred_at) as request_hour
    from intermediate.int_requests_priced
    where usage_date in (select day from meta.build_scope)
),

-- Each pot once per clock hour its charge period touches, so requests join pots on an equality (the hour) instead
-- of a range alone: a range join on account/region/model would pair every request with every pot of its model.
-- DuckDB-only: generate_series over timestamps, unnest.
pot_hours as (
    select p.pot_id, h.hour
    from pots as p
    cross join unnest(generate_series(date_trunc('hour', p.period_start), p.period_end - interval 1 microsecond,
                                      interval 1 hour)) as h(hour)
    where p.route in ('tokens', 'capacity') and p.period_end > p.period_start
),

token_matches as (
    select
        p.pot_id,
        r.source_format,
        r.request_id,
        r.team,
        r.department,
        r.agent,
        r.model,
        r.environment,
        r.region,
        p.token_type,
        case p.token_type
            when 'input' then r.input_tokens
            when 'output' then r.output_tokens
            when 'cache_read' then r.cache_read_tokens
            when 'cache_write' then r.cache_write_tokens
        end as tokens,
        case p.token_type
            when 'input' then r.input_cost
            when 'output' then r.output_cost
            when 'cache_read' then r.cache_read_cost
            when 'cache_write' then r.cache_write_cost
        end as estimated_cost
    from pots as p
    inner join pot_hours as h on h.pot_id = p.pot_id
    inner join requests as r
        on r.request_hour = h.hour
        and r.account_id = p.account_id
        and r.region = p.region
        and r.model = p.model
        and r.occurred_at >= p.period_start
        and r.occurred_at < p.period_end
    where p.route = 'tokens'
),

-- only token types the request used; a pot with any unpriced usage weighs its claims by tokens instead
token_usage as (
    select * from token_matches where tokens > 0
),

pots_with_unpriced_usage as (
    select distinct pot_id from token_usage where estimated_cost is null
),

token_claims as (
    select
        t.pot_id,
        t.source_format || '|' || t.request_id || '|' || t.token_type as claim_key,
        case
            when u.pot_id is null then cast(t.estimated_cost * 10000000000 as hugeint)
            else cast(t.tokens as hugeint)
        end as weight,
        'tokens' as cost_kind,
        t.team, t.department, t.agent, t.model, t.environment, t.region,
        t.source_format || '|' || t.request_id as request_key,
        case when t.token_type = 'input' then t.tokens else 0 end as input_tokens,
        case when t.token_type = 'output' then t.tokens else 0 end as output_tokens,
        case when t.token_type = 'cache_read' then t.tokens else 0 end as cache_read_tokens,
        case when t.token_type = 'cache_write' then t.tokens else 0 end as cache_write_tokens,
        t.estimated_cost,
        cast(null as varchar) as reason,
        t.source_format,
        t.request_id,
        t.token_type
    from token_usage as t
    left join pots_with_unpriced_usage as u on u.pot_id = t.pot_id
),

unmatched_token_claims as (
    select
        p.pot_id, '__unallocated__' as claim_key, cast(1 as hugeint) as weight, 'unallocated' as cost_kind,
        '__unallocated__' as team, '__unallocated__' as department, cast(null as varchar) as agent,
        p.model, p.environment, p.region, cast(null as varchar) as request_key,
        0 as input_tokens, 0 as output_tokens, 0 as cache_read_tokens, 0 as cache_write_tokens,
        cast(null as decimal(38, 10)) as estimated_cost, 'no matching requests' as reason,
        cast(null as varchar) as source_format, cast(null as varchar) as request_id, cast(null as varchar) as token_type
    from pots as p
    where p.route = 'tokens' and not exists (select 1 from token_usage as m where m.pot_id = p.pot_id)
),

capacity_pots as (
    select
        p.*,
        c.name as capacity_name,
        c.serves_like,
        c.split_by,
        c.idle_policy,
        c.owner_team,
        c.owner_department,
        -- capacity for the line's period on the weight scale (x 3600 instead of dividing seconds by 3600)
        cast(round(c.capacity_per_hour * (epoch(p.period_end) - epoch(p.period_start))
                   * case when c.split_by = 'busy_time' then 1000 else 1 end) as hugeint) as capacity_weight
    from pots as p
    inner join ref.capacity as c on c.rule_order = p.capacity_rule
    where p.route = 'capacity'
),

-- the logged model ids each capacity rule serves (LIKE on a few distinct ids, not on every request)
served_models as (
    select distinct c.serves_like, m.model_id
    from (select distinct serves_like from capacity_pots) as c
    inner join (select distinct model_id from requests) as m on m.model_id like c.serves_like escape '\'
),

-- one claim per request served by the resource in the line's period
capacity_use as (
    select
        p.pot_id,
        r.source_format || '|' || r.request_id as request_key,
        r.team, r.department, r.agent, r.model, r.environment, r.region,
        r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens,
        r.estimated_cost,
        r.source_format,
        r.request_id,
        3600 * case
            when p.split_by = 'busy_time' then cast(round(coalesce(r.latency_ms, 0)) as hugeint)
            else cast(r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens as hugeint)
        end as used_weight
    from capacity_pots as p
    inner join pot_hours as h on h.pot_id = p.pot_id
    inner join served_models as s on s.serves_like = p.serves_like
    inner join requests as r
        on r.request_hour = h.hour
        and r.model_id = s.model_id
        and r.occurred_at >= p.period_start
        and r.occurred_at < p.period_end
),

capacity_totals as (
    select p.pot_id, coalesce(sum(u.used_weight), 0) as used_weight
    from capacity_pots as p
    left join capacity_use as u on u.pot_id = p.pot_id
    group by p.pot_id
),

capacity_claims as (
    select
        u.pot_id,
        u.request_key as claim_key,
        u.used_weight as weight,
        'capacity' as cost_kind,
        u.team, u.department, u.agent, u.model, u.environment, u.region,
        u.request_key,
        u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens,
        u.estimated_cost,
        cast(null as varchar) as reason,
        u.source_format,
        u.request_id,
        cast(null as varchar) as token_type
    from capacity_use as u
),

idle_claims as (
    select
        p.pot_id,
        '~idle' as claim_key,
        case
            when p.idle_policy = 'proportional' then case when t.used_weight = 0 then cast(1 as hugeint) else 0 end
            else greatest(p.capacity_weight - t.used_weight, 0)
        end as weight,
        'idle' as cost_kind,
        -- proportional with no use at all in the hour: the owner if there is one, else the central bucket
        case when p.idle_policy in ('owner', 'proportional') and p.owner_team is not null
            then p.owner_team else '__idle__' end as team,
        case when p.idle_policy in ('owner', 'proportional') and p.owner_team is not null
            then coalesce(p.owner_department, '__unmapped__') else '__idle__' end as department,
        cast(null as varchar) as agent,
        cast(null as varchar) as model,
        p.environment,
        p.line_region as region,
        cast(null as varchar) as request_key,
        0, 0, 0, 0,
        cast(null as decimal(38, 10)),
        'idle capacity of ' || p.capacity_name as reason,
        cast(null as varchar) as source_format, cast(null as varchar) as request_id, cast(null as varchar) as token_type
    from capacity_pots as p
    inner join capacity_totals as t on t.pot_id = p.pot_id
),

line_claims as (
    select
        pot_id,
        route as claim_key,
        cast(1 as hugeint) as weight,
        route as cost_kind,
        case when route = 'direct' then team else '__unallocated__' end as team,
        case when route = 'direct' then department else '__unallocated__' end as department,
        cast(null as varchar) as agent,
        model,
        environment,
        coalesce(region, line_region) as region,
        cast(null as varchar) as request_key,
        0, 0, 0, 0,
        cast(null as decimal(38, 10)),
        unallocated_reason as reason,
        cast(null as varchar) as source_format, cast(null as varchar) as request_id, cast(null as varchar) as token_type
    from pots
    where route in ('direct', 'unallocated')
),

claims as (
    select * from token_claims
    union all select * from unmatched_token_claims
    union all select * from capacity_claims
    union all select * from idle_claims where weight > 0    -- no idle row for a fully used hour
    union all select * from line_claims
),

final as (
    select
        c.*,
        p.day,
        p.billing_currency,
        p.billed_cost as pot_billed_cost,
        p.effective_cost as pot_effective_cost,
        p.is_genai
    from claims as c
    inner join pots as p on p.pot_id = c.pot_id
)

select * from final
