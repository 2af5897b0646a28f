-- Billing currencies that could not be converted into the reporting currency on some days: the visible count behind
-- the null *_reporting amounts of marts.allocated_cost_reporting. Empty when every row converts.
-- grain: billing_currency, reporting_currency
-- materialized: table

-- Fix: add an [[fx_rates]] entry from billing_currency to reporting_currency effective on or before first_day.
with

missing as (
    select * from marts.allocated_cost_reporting where fx_rate_source = 'missing'
),

final as (
    select
        billing_currency,
        reporting_currency,
        count(distinct day) as days,
        min(day) as first_day,
        max(day) as last_day,
        count(*) as mart_rows,
        cast(sum(billed_cost) as decimal(38, 10)) as billed_cost,
        cast(sum(effective_cost) as decimal(38, 10)) as effective_cost
    from missing
    group by billing_currency, reporting_currency
)

select * from final
