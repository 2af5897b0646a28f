-- Price-book estimate against the bill per token group (charge period, account, region, model, token type).
-- grain: day, period_start, account_id, region, model, token_type, billing_currency
-- materialized: table
-- incremental: day

-- coverage: 'matched' (bill and requests), 'bill only' (billed tokens no request explains: __unallocated__),
-- 'requests only' (requests no bill covers yet: estimated_unbilled). variance = billed - estimate; variance_pct is a
-- ratio (a double), not money. The estimate is USD; compare it with billed cost only where the currency is USD.
with

routes as (
    select * from intermediate.int_cost_line_routes
    where route = 'tokens' and charge_date in (select day from meta.build_scope)
),

pots as (
    select
        pot_id,
        min(charge_date) as day,
        min(charge_period_start) as period_start,
        max(sub_account_id) as account_id,
        max(usage_region) as region,
        max(usage_model) as model,
        max(token_type) as token_type,
        billing_currency,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost
    from routes
    group by pot_id, billing_currency
),

estimates as (
    select pot_id, sum(estimated_cost) as estimate, count(distinct request_key) as requests
    from intermediate.int_genai_claims
    where cost_kind = 'tokens' and day in (select day from meta.build_scope)
    group by pot_id
),

billed_groups as (
    select
        p.day, p.period_start, p.account_id, p.region, p.model, p.token_type, p.billing_currency,
        e.estimate, p.billed_cost, p.effective_cost, coalesce(e.requests, 0) as requests,
        case when e.pot_id is null then 'bill only' else 'matched' end as coverage
    from pots as p
    left join estimates as e on e.pot_id = p.pot_id
),

unbilled_groups as (
    select
        usage_date as day,
        usage_hour as period_start,   -- the hour, as hourly bills would group it
        account_id, region, model, token_type,
        'USD' as billing_currency,
        sum(estimated_cost) as estimate,
        cast(null as decimal(38, 10)) as billed_cost,
        cast(null as decimal(38, 10)) as effective_cost,
        count(*) as requests,
        'requests only' as coverage
    from intermediate.int_unbilled_tokens
    where usage_date in (select day from meta.build_scope)
    group by usage_date, usage_hour, account_id, region, model, token_type
),

final as (
    select
        *,
        billed_cost - estimate as variance,
        case when estimate <> 0 then 100.0 * cast(billed_cost - estimate as double) / cast(estimate as double)
        end as variance_pct
    from (select * from billed_groups union all select * from unbilled_groups) as groups
)

select * from final
