-- Conservation: per day and billing currency, allocated billed and effective cost (every cost kind except
-- estimated_unbilled) equal the bill (staging.stg_cost_lines) within 1e-6. Returns the days that differ.
with

allocated as (
    select day, billing_currency, sum(billed_cost) as billed_cost, sum(effective_cost) as effective_cost
    from marts.allocated_cost
    where cost_kind <> 'estimated_unbilled'
    group by day, billing_currency
),

billed as (
    select charge_date as day, billing_currency, sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost
    from staging.stg_cost_lines
    group by charge_date, billing_currency
)

select
    coalesce(a.day, b.day) as day,
    coalesce(a.billing_currency, b.billing_currency) as billing_currency,
    a.billed_cost as allocated_billed_cost,
    b.billed_cost as bill_billed_cost,
    a.effective_cost as allocated_effective_cost,
    b.effective_cost as bill_effective_cost
from allocated as a
full outer join billed as b
    on b.day = a.day and b.billing_currency = a.billing_currency
where abs(coalesce(a.billed_cost, 0) - coalesce(b.billed_cost, 0)) > 0.000001
    or abs(coalesce(a.effective_cost, 0) - coalesce(b.effective_cost, 0)) > 0.000001
