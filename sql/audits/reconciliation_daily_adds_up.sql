-- marts.reconciliation_daily adds up: per day and currency, genai_billed = attributed_to_teams + unallocated + idle,
-- and total_billed = genai_billed + other_direct + shared_allocated + shared = the day's bill
-- (staging.stg_cost_lines). Returns the rows that break either identity.
with

bill as (
    select charge_date as day, billing_currency, sum(billed_cost) as billed_cost
    from staging.stg_cost_lines
    group by charge_date, billing_currency
)

select
    coalesce(r.day, b.day) as day,
    coalesce(r.billing_currency, b.billing_currency) as billing_currency,
    r.genai_billed, r.attributed_to_teams, r.unallocated, r.idle, r.total_billed,
    b.billed_cost as bill_billed_cost
from marts.reconciliation_daily as r
full outer join bill as b on b.day = r.day and b.billing_currency = r.billing_currency
where abs(coalesce(r.genai_billed, 0) - coalesce(r.attributed_to_teams + r.unallocated + r.idle, 0)) > 0.000001
    or abs(coalesce(r.total_billed, 0)
           - coalesce(r.genai_billed + r.other_direct + r.shared_allocated + r.shared, 0)) > 0.000001
    or abs(coalesce(r.total_billed, 0) - coalesce(b.billed_cost, 0)) > 0.000001
