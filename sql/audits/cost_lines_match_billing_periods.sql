-- Each billing period of each export holds exactly the delivery recorded for it: returns (dataset, billing_period)
-- where sum(billed_cost) or the line count in raw.cost_lines differs from the latest meta.billing_periods entry,
-- or where one side has the period and the other does not. Zero rows means no refresh was doubled or half-applied.
with

loaded as (
    select
        dataset,
        billing_period,
        sum(billed_cost) as billed_cost,
        count(*) as line_count
    from raw.cost_lines
    group by dataset, billing_period
),

ranked_versions as (
    select
        dataset,
        billing_period,
        version,
        billed_cost,
        rows_loaded,
        row_number() over (partition by dataset, billing_period order by replaced_at desc) as version_rank
    from meta.billing_periods
),

latest_versions as (
    select * from ranked_versions
    where version_rank = 1
),

final as (
    select
        coalesce(v.dataset, l.dataset) as dataset,
        coalesce(v.billing_period, l.billing_period) as billing_period,
        v.version,
        v.billed_cost as recorded_billed_cost,
        l.billed_cost as loaded_billed_cost,
        v.rows_loaded as recorded_lines,
        l.line_count as loaded_lines
    from latest_versions as v
    full outer join loaded as l
        on l.dataset = v.dataset and l.billing_period = v.billing_period
    -- A delivery of zero lines records a null sum; compare it as zero.
    where coalesce(v.billed_cost, 0) <> coalesce(l.billed_cost, 0)
        or coalesce(v.rows_loaded, 0) <> coalesce(l.line_count, 0)
)

select * from final
