-- The chargeback finance books, what `costwarden export chargeback` writes: closed months from their frozen
-- snapshot (ledger.chargeback_snapshots), open months from the live allocation (marts.chargeback_live), plus an
-- adjustment for every closed month whose bill was restated after it was closed.
-- grain: billing month, line_key, x_CostKind, x_Department, x_Team, x_Agent, x_Model, x_Environment (adjustments:
--        booking month, restated month, department, team, currency, account, provider, service)
-- materialized: view

-- A restated closed month M is never changed. The difference between what the bill says about M now
-- (chargeback_live) and what was booked for it (M's frozen rows plus adjustments for M already frozen in later
-- closed months) becomes rows of cost kind 'adjustment' (FOCUS ChargeCategory Adjustment, ChargeClass Correction)
-- in the first open month after M. Once that month is closed too, the adjustment is frozen with it, and a further
-- restatement of M only books what is still missing. So over all months the chargeback adds up to the current bill.
with

closed as (
    select billing_period, closed_at from ledger.closed_months
),

live as (
    select *, cast(date_trunc('month', "BillingPeriodStart") as date) as billing_month
    from marts.chargeback_live
),

frozen as (
    select *, cast(date_trunc('month', "BillingPeriodStart") as date) as billing_month
    from ledger.chargeback_snapshots
),

-- + what the bill says now, - what was booked: per restated closed month and adjustment dimensions
movements as (
    select
        billing_month as restated, "BillingCurrency", "BillingAccountId", "ProviderName", "PublisherName",
        "InvoiceIssuerName", "ServiceName", "ServiceCategory", "ServiceSubcategory", "x_ServiceCode", "x_Department",
        "x_Team",
        "BilledCost", "EffectiveCost", "ListCost", "ContractedCost"
    from live
    where billing_month in (select billing_period from closed)
    union all
    select
        billing_month, "BillingCurrency", "BillingAccountId", "ProviderName", "PublisherName",
        "InvoiceIssuerName", "ServiceName", "ServiceCategory", "ServiceSubcategory", "x_ServiceCode", "x_Department",
        "x_Team",
        -"BilledCost", -"EffectiveCost", -"ListCost", -"ContractedCost"
    from frozen
    where "x_CostKind" <> 'adjustment'
    union all
    select
        "x_AdjustedBillingPeriod", "BillingCurrency", "BillingAccountId", "ProviderName", "PublisherName",
        "InvoiceIssuerName", "ServiceName", "ServiceCategory", "ServiceSubcategory", "x_ServiceCode", "x_Department",
        "x_Team",
        -"BilledCost", -"EffectiveCost", -"ListCost", -"ContractedCost"
    from frozen
    where "x_CostKind" = 'adjustment'
),

differences as (
    select
        restated, "BillingCurrency", "BillingAccountId", "ProviderName", "PublisherName", "InvoiceIssuerName",
        "ServiceName", "ServiceCategory", "ServiceSubcategory", "x_ServiceCode", "x_Department", "x_Team",
        sum("BilledCost") as "BilledCost",
        sum("EffectiveCost") as "EffectiveCost",
        sum("ListCost") as "ListCost",
        sum("ContractedCost") as "ContractedCost"
    from movements
    group by restated, "BillingCurrency", "BillingAccountId", "ProviderName", "PublisherName",
        "InvoiceIssuerName", "ServiceName", "ServiceCategory", "ServiceSubcategory", "x_ServiceCode", "x_Department",
        "x_Team"
    having sum("BilledCost") <> 0 or sum("EffectiveCost") <> 0
),

restated_months as (
    select distinct restated from differences
),

-- the first open month after M: M + 1 month, or the month after a later closed month, whichever is open first
candidates as (
    select restated, cast(restated + interval 1 month as date) as candidate from restated_months
    union
    select r.restated, cast(c.billing_period + interval 1 month as date)
    from restated_months as r
    inner join closed as c on c.billing_period > r.restated
),

booking as (
    select restated, min(candidate) as booked_in
    from candidates
    where candidate not in (select billing_period from closed)
    group by restated
),

adjustments as (
    select
        cast(b.booked_in as timestamp) as "BillingPeriodStart",
        cast(b.booked_in as timestamp) + interval 1 month as "BillingPeriodEnd",
        cast(d.restated as timestamp) as "ChargePeriodStart",
        cast(d.restated as timestamp) + interval 1 month as "ChargePeriodEnd",
        d."BillingAccountId",
        cast(null as varchar) as "BillingAccountName",
        cast(null as varchar) as "SubAccountId",
        cast(null as varchar) as "SubAccountName",
        d."ProviderName", d."PublisherName", d."InvoiceIssuerName",
        cast(null as varchar) as "InvoiceId",
        'Adjustment' as "ChargeCategory",
        'Correction' as "ChargeClass",
        'One-Time' as "ChargeFrequency",
        'Restatement of ' || strftime(d.restated, '%Y-%m') || ' after it was closed (chargeback adjustment)'
            as "ChargeDescription",
        d."ServiceName", d."ServiceCategory", d."ServiceSubcategory",
        cast(null as varchar) as "RegionId",
        cast(null as varchar) as "AvailabilityZone",
        cast(null as varchar) as "ResourceId",
        cast(null as varchar) as "ResourceName",
        cast(null as varchar) as "ResourceType",
        cast(null as varchar) as "SkuId",
        cast(null as varchar) as "SkuPriceId",
        cast(null as varchar) as "SkuMeter",
        cast(null as varchar) as "PricingCategory",
        cast(null as varchar) as "PricingUnit",
        cast(null as decimal(38, 10)) as "PricingQuantity",
        cast(null as decimal(38, 10)) as "ConsumedQuantity",
        cast(null as varchar) as "ConsumedUnit",
        cast(null as decimal(38, 18)) as "ListUnitPrice",
        cast(null as decimal(38, 18)) as "ContractedUnitPrice",
        cast(null as varchar) as "CommitmentDiscountId",
        d."BillingCurrency",
        cast(d."BilledCost" as decimal(38, 10)) as "BilledCost",
        cast(d."EffectiveCost" as decimal(38, 10)) as "EffectiveCost",
        cast(d."ListCost" as decimal(38, 10)) as "ListCost",
        cast(d."ContractedCost" as decimal(38, 10)) as "ContractedCost",
        cast(null as varchar) as "Tags",
        d."x_ServiceCode",
        cast(null as varchar) as "x_UsageType",
        cast(null as varchar) as "x_Operation",
        cast(null as varchar) as "x_LineItemType",
        d."x_Department", d."x_Team",
        cast(null as varchar) as "x_Agent",
        cast(null as varchar) as "x_Model",
        cast(null as varchar) as "x_Environment",
        'adjustment' as "x_CostKind",
        'restatement' as "x_AllocationMethod",
        cast(null as varchar) as "x_AllocationRule",
        'the bill for ' || strftime(d.restated, '%Y-%m') || ' changed after the month was closed'
            as "x_AllocationReason",
        d.restated as "x_AdjustedBillingPeriod",
        cast(null as timestamp) as "x_ClosedAt"
    from differences as d
    inner join booking as b on b.restated = d.restated
),

final as (
    select * exclude (billing_month) from frozen
    union all
    select * exclude (billing_month) from live where billing_month not in (select billing_period from closed)
    union all
    select * from adjustments
)

select * from final
