-- marts.allocated_cost with its billed and effective cost converted into the reporting currency.
-- grain: day, billing_currency, department, team, agent, model, environment, region, cost_kind
-- materialized: table

-- The rate is the [[fx_rates]] rate (ref.fx_rates) from billing_currency to the reporting currency with the latest
-- effective_from on or before the row's day; a row already in the reporting currency uses 1 (fx_rate_source
-- 'identity'). With no rate in force the converted amounts are null (fx_rate_source 'missing', counted in
-- marts.fx_missing_rates), never a guess and never a silent drop: billed_cost stays, so per-currency totals hold.
-- Sum *_reporting amounts only where fx_rate_source <> 'missing'. Conversion is exact decimal multiplication,
-- rounded to 1e-10. estimated_cost stays USD (it is a price-book estimate, not billed money).
with

reporting as (
    select max(currency) as reporting_currency from ref.reporting_currency
),

day_currencies as (
    select distinct day, billing_currency from marts.allocated_cost
),

candidates as (
    select
        d.day, d.billing_currency, f.rate, f.effective_from,
        row_number() over (partition by d.day, d.billing_currency order by f.effective_from desc) as rate_rank
    from day_currencies as d
    cross join reporting as r
    inner join ref.fx_rates as f
        on f.from_currency = d.billing_currency
        and f.to_currency = r.reporting_currency
        and f.effective_from <= d.day
),

rates as (
    select
        d.day, d.billing_currency, r.reporting_currency,
        case
            when d.billing_currency = r.reporting_currency then cast(1 as decimal(38, 10))
            else c.rate
        end as fx_rate,
        case when d.billing_currency = r.reporting_currency then null else c.effective_from end as fx_effective_from,
        case
            when d.billing_currency = r.reporting_currency then 'identity'
            when c.rate is not null then 'config'
            else 'missing'
        end as fx_rate_source
    from day_currencies as d
    cross join reporting as r
    left join candidates as c
        on c.day = d.day and c.billing_currency = d.billing_currency and c.rate_rank = 1
),

final as (
    select
        a.*,
        x.reporting_currency,
        x.fx_rate,
        x.fx_effective_from,
        x.fx_rate_source,
        cast(a.billed_cost * x.fx_rate as decimal(38, 10)) as billed_cost_reporting,
        cast(a.effective_cost * x.fx_rate as decimal(38, 10)) as effective_cost_reporting
    from marts.allocated_cost as a
    inner join rates as x on x.day = a.day and x.billing_currency = a.billing_currency
)

select * from final
