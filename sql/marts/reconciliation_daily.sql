-- The day's bill at a glance: GenAI spend, how much of it reached a real team, and what sits in the reserved
-- buckets. grain: day, billing_currency
-- materialized: table

-- Money in billing_currency (never summed across currencies); *_usd are price-book estimates.
--   genai_billed          billed cost of GenAI lines (Bedrock, SageMaker, GPU instances, AI services)
--                         = attributed_to_teams + unallocated + idle
--   attributed_to_teams   the part that reached a team: token and capacity shares, team-tagged GenAI lines and idle
--                         charged to an owner team (idle_policy owner / proportional)
--   unallocated, idle     the __unallocated__ and __idle__ buckets
--   other_direct          team-tagged lines that are not GenAI
--   shared_allocated      overhead split to teams by [[shared_costs]] rules; shared: the __shared__ bucket
--   total_billed          every line of the day = genai_billed + other_direct + shared_allocated + shared
--   estimate_usd          estimate of the requests the day's bill covers; unbilled_estimate_usd: estimate of
--                         requests no bill covers yet (USD row only)
--   coverage_pct          100 x attributed_to_teams / genai_billed (null without GenAI spend); a ratio, not money
with

genai as (
    select
        day, billing_currency,
        case when is_genai then billed_cost else 0 end as genai_billed,
        case when is_genai and team not in ('__unallocated__', '__idle__', '__shared__') then billed_cost else 0
            end as attributed_to_teams,
        case when team = '__unallocated__' then billed_cost else 0 end as unallocated,
        case when team = '__idle__' then billed_cost else 0 end as idle,
        case when not is_genai and team not in ('__unallocated__', '__idle__') then billed_cost else 0
            end as other_direct,
        0 as shared_allocated,
        0 as shared,
        billed_cost as total_billed,
        case when request_key is not null then estimated_cost end as estimate_usd,
        cast(null as decimal(38, 10)) as unbilled_estimate_usd
    from intermediate.int_genai_allocated
),

shared as (
    select
        day, billing_currency,
        0, 0, 0, 0, 0,
        case when team <> '__shared__' then billed_cost else 0 end,
        case when team = '__shared__' then billed_cost else 0 end,
        billed_cost,
        cast(null as decimal(38, 10)),
        cast(null as decimal(38, 10))
    from intermediate.int_shared_allocated
),

unbilled as (
    select
        day, billing_currency,
        0, 0, 0, 0, 0, 0, 0, 0,
        cast(null as decimal(38, 10)),
        estimated_cost
    from marts.allocated_cost
    where cost_kind = 'estimated_unbilled'
),

grouped as (
    select
        day, billing_currency,
        cast(sum(genai_billed) as decimal(38, 10)) as genai_billed,
        cast(sum(attributed_to_teams) as decimal(38, 10)) as attributed_to_teams,
        cast(sum(unallocated) as decimal(38, 10)) as unallocated,
        cast(sum(idle) as decimal(38, 10)) as idle,
        cast(sum(other_direct) as decimal(38, 10)) as other_direct,
        cast(sum(shared_allocated) as decimal(38, 10)) as shared_allocated,
        cast(sum(shared) as decimal(38, 10)) as shared,
        cast(sum(total_billed) as decimal(38, 10)) as total_billed,
        cast(coalesce(sum(estimate_usd), 0) as decimal(38, 10)) as estimate_usd,
        cast(coalesce(sum(unbilled_estimate_usd), 0) as decimal(38, 10)) as unbilled_estimate_usd
    from (
        select * from genai
        union all select * from shared
        union all select * from unbilled
    ) as parts
    group by day, billing_currency
),

final as (
    select
        *,
        case when genai_billed <> 0
            then 100.0 * cast(attributed_to_teams as double) / cast(genai_billed as double)
        end as coverage_pct
    from grouped
)

select * from final
