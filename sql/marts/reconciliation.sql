-- Price-book estimate against the bill per token group (charge period, account, region, model, token type).
-- grain: day, period_start, account_id, region, model, token_type, billing_currency
-- materialized: table

-- coverage: 'matched' (bill and requests), 'bill only' (billed tokens no request explains: __unallocated__),
-- 'requests only' (requests no bill covers yet: estimated_unbilled). variance = billed - estimate; variance_pct is a
-- ratio (a double), not money. The estimate is USD; compare it with billed cost only where the currency is USD.
with

routes as (
    select * from intermediate.int_cost_line_routes where route = 'tokens'
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
    where cost_kind = 'tokens'
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
        r.usage_date as day,
        date_trunc('hour', r.occurred_at) as period_start,   -- the hour, as hourly bills would group it
        r.account_id, r.region, r.model, t.token_type,
        'USD' as billing_currency,
        sum(t.estimated_cost) as estimate,
        cast(null as decimal(38, 10)) as billed_cost,
        cast(null as decimal(38, 10)) as effective_cost,
        count(*) as requests,
        'requests only' as coverage
    from intermediate.int_request_tokens as t
    inner join intermediate.int_requests_priced as r
        on r.source_format = t.source_format and r.request_id = t.request_id
    where t.tokens > 0
        and (t.source_format || '|' || t.request_id || '|' || t.token_type) not in (
            select claim_key from intermediate.int_genai_claims where cost_kind = 'tokens')
        and (r.source_format || '|' || r.request_id) not in (
            select request_key from intermediate.int_genai_claims where cost_kind = 'capacity')
    group by r.usage_date, date_trunc('hour', r.occurred_at), r.account_id, r.region, r.model, t.token_type
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
