-- Shared overhead (support, tax, untagged non-GenAI services) apportioned exactly by the [[shared_costs]] rules;
-- lines no rule matches stay in the explicit __shared__ bucket. grain: pot_id, claim_key
-- materialized: table

-- proportional: by each team's attributed GenAI billed cost (tokens, capacity, idle, direct GenAI) over the days of
-- the line's charge period, same currency. even: one share per team with requests in those days. fixed: the rule's
-- percentages. A rule with nobody to share with (no GenAI spend / no active team) leaves the cost in __shared__.
-- Apportionment is the same integer largest-remainder method as int_genai_allocated.
with

routes as (
    select * from intermediate.int_cost_line_routes
    where route in ('shared_rule', 'shared')
),

pots as (
    select
        r.pot_id,
        r.route,
        r.shared_rule,
        s.method,
        min(r.charge_date) as day,
        cast(min(r.charge_period_start) as date) as first_day,
        cast(max(r.charge_period_end) as date) as end_day,
        r.billing_currency,
        max(r.environment) as environment,
        sum(r.billed_cost) as billed_cost,
        sum(r.effective_cost) as effective_cost
    from routes as r
    left join ref.shared_costs as s on s.name = r.shared_rule
    group by r.pot_id, r.route, r.shared_rule, s.method, r.billing_currency
),

-- days a pot covers: its charge period (at least its first day)
pot_days as (
    select pot_id, billing_currency, method, first_day, end_day from pots where route = 'shared_rule'
),

-- GenAI spend per day, currency and team, aggregated once (a few rows per day) before the range join to the pots
daily_genai_spend as (
    select day, billing_currency, team, department, sum(billed_cost) as spend
    from intermediate.int_genai_allocated
    where is_genai
        and team not in ('__unallocated__', '__idle__', '__shared__')
    group by day, billing_currency, team, department
),

genai_spend as (
    select
        p.pot_id,
        a.team,
        a.department,
        sum(a.spend) as spend
    from pot_days as p
    inner join daily_genai_spend as a
        on a.billing_currency = p.billing_currency
        and a.day >= p.first_day
        and (a.day < p.end_day or a.day = p.first_day)
    where p.method = 'proportional'
    group by p.pot_id, a.team, a.department
    having sum(a.spend) > 0
),

active_teams as (
    select distinct p.pot_id, r.team, r.department
    from pot_days as p
    inner join intermediate.int_team_days as r
        on r.usage_date >= p.first_day
        and (r.usage_date < p.end_day or r.usage_date = p.first_day)
    where p.method = 'even'
),

team_departments as (
    select team, max(department) as department
    from intermediate.int_team_days
    group by team
),

rule_claims as (
    select pot_id, team, department, cast(spend * 10000000000 as hugeint) as weight from genai_spend
    union all
    select pot_id, team, department, cast(1 as hugeint) from active_teams
    union all
    select
        p.pot_id,
        s.team,
        coalesce(s.department, d.department, '__unmapped__'),
        cast(s.percent * 10000000000 as hugeint)
    from pots as p
    inner join ref.shared_cost_shares as s on s.name = p.shared_rule
    left join team_departments as d on d.team = s.team
    where p.method = 'fixed'
),

claims as (
    select pot_id, team as claim_key, weight, 'shared_overhead' as cost_kind, team, department,
        cast(null as varchar) as reason
    from rule_claims
    union all
    select
        p.pot_id, '__shared__', cast(1 as hugeint), 'shared_overhead', '__shared__', '__shared__',
        case when p.route = 'shared' then 'no [[shared_costs]] rule and no team tag'
            else 'rule ' || p.shared_rule || ' (' || p.method || ') found nobody to share with' end
    from pots as p
    where not exists (select 1 from rule_claims as c where c.pot_id = p.pot_id)
),

weighted as (
    select
        c.*,
        p.day,
        p.billing_currency,
        p.environment,
        cast(p.billed_cost * 10000000000 as hugeint) as billed_units,
        cast(p.effective_cost * 10000000000 as hugeint) as effective_units,
        sum(c.weight) over (partition by c.pot_id) as pot_weight,
        count(*) over (partition by c.pot_id) as pot_claims,
        row_number() over (partition by c.pot_id order by c.weight desc, c.claim_key) as remainder_rank
    from claims as c
    inner join pots as p on p.pot_id = c.pot_id
),

-- DuckDB-only: `//` is integer division (non-negative operands: floor division).
floored as (
    select
        *,
        abs(billed_units) * case when pot_weight = 0 then 1 else weight end
            // case when pot_weight = 0 then pot_claims else pot_weight end as billed_floor,
        abs(effective_units) * case when pot_weight = 0 then 1 else weight end
            // case when pot_weight = 0 then pot_claims else pot_weight end as effective_floor
    from weighted
),

remainders as (
    select
        *,
        abs(billed_units) - sum(billed_floor) over (partition by pot_id) as billed_left,
        abs(effective_units) - sum(effective_floor) over (partition by pot_id) as effective_left
    from floored
),

amounts as (
    select
        *,
        largest_remainder_units(billed_units, billed_floor, remainder_rank, billed_left) as billed_amount_units,
        largest_remainder_units(effective_units, effective_floor, remainder_rank, effective_left)
            as effective_amount_units
    from remainders
),

-- billed_units / effective_units: the same amounts in integer units of 1e-10 (marts.chargeback_live sums them).
final as (
    select
        pot_id, claim_key, day, billing_currency, cost_kind, team, department, environment, reason, weight,
        units_to_money(billed_amount_units) as billed_cost,
        units_to_money(effective_amount_units) as effective_cost,
        billed_amount_units as billed_units,
        effective_amount_units as effective_units
    from amounts
)

select * from final
