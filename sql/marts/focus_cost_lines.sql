-- The billed cost lines as they came in (CUR, CUR 2.0 or FOCUS), in FOCUS 1.2 form: what `costwarden export focus`
-- writes, and the line attributes `marts.chargeback_live` carries onto each allocated share.
-- grain: line_key (one row per raw.cost_lines row)
-- materialized: view

-- Money is copied, never recomputed: BilledCost, EffectiveCost, ListCost, ContractedCost are the line's own
-- decimal(38, 10) values. Where the source has no value for a column FOCUS 1.2 requires, the fill is stated here:
--   ListCost / ContractedCost: the other one, else BilledCost (no negotiated / list price known)
--   ListUnitPrice / ContractedUnitPrice: ListCost / PricingQuantity and ContractedCost / PricingQuantity (rates, not
--     money: the source files' rates are not kept in raw.cost_lines)
--   SkuPriceId: the SkuId (FOCUS allows them to be equal); ServiceCategory: 'Other'; ChargeFrequency: from the
--     charge category; PricingCategory: 'Standard'; ResourceType: the ARN's resource type, else the service name
-- and FOCUS's conditional nulls are applied (no SKU, quantity or unit price on Tax lines; ConsumedQuantity only on
-- Usage lines). Columns FOCUS 1.2 has that no source here carries (commitment discount details, capacity
-- reservations, pricing currency, region names, account types) are left out rather than invented.
with

lines as (
    select
        dataset || '|' || cast(billing_period as varchar) || '|' || _source_object || '|'
            || coalesce(cast(_source_row as varchar), '') as line_key,
        *
    from raw.cost_lines
),

prepared as (
    select
        *,
        charge_category in ('Usage', 'Purchase') and coalesce(charge_class, '') <> 'Correction' as priced_charge,
        coalesce(list_cost, contracted_cost, billed_cost) as list_cost_filled,
        coalesce(contracted_cost, list_cost, billed_cost) as contracted_cost_filled,
        -- FOCUS UnitFormat spellings of AWS's abbreviations (Hrs -> Hours, GB-Mo -> GB-Months)
        case pricing_unit when 'Hrs' then 'Hours' when 'GB-Mo' then 'GB-Months' else pricing_unit end
            as pricing_unit_focus,
        case consumed_unit when 'Hrs' then 'Hours' when 'GB-Mo' then 'GB-Months' else consumed_unit end
            as consumed_unit_focus
    from lines
),

final as (
    select
        line_key,
        billing_period,
        source_format,
        coalesce(billing_period_start, cast(billing_period as timestamp)) as "BillingPeriodStart",
        coalesce(billing_period_end, cast(billing_period as timestamp) + interval 1 month) as "BillingPeriodEnd",
        charge_period_start as "ChargePeriodStart",
        coalesce(charge_period_end, charge_period_start + interval 1 hour) as "ChargePeriodEnd",
        billing_account_id as "BillingAccountId",
        cast(null as varchar) as "BillingAccountName",
        sub_account_id as "SubAccountId",
        sub_account_name as "SubAccountName",
        coalesce(provider_name, publisher_name, invoice_issuer_name) as "ProviderName",
        coalesce(publisher_name, provider_name, invoice_issuer_name) as "PublisherName",
        coalesce(invoice_issuer_name, provider_name, publisher_name) as "InvoiceIssuerName",
        invoice_id as "InvoiceId",
        charge_category as "ChargeCategory",
        case when charge_class = 'Correction' then charge_class end as "ChargeClass",
        case
            when charge_frequency in ('One-Time', 'Recurring', 'Usage-Based')
                and not (charge_category = 'Purchase' and charge_frequency = 'Usage-Based') then charge_frequency
            when charge_category = 'Usage' then 'Usage-Based'
            else 'One-Time'
        end as "ChargeFrequency",
        charge_description as "ChargeDescription",
        coalesce(service_name, service_code, provider_name) as "ServiceName",
        coalesce(service_category, 'Other') as "ServiceCategory",
        -- FOCUS 1.2 ServiceSubcategory (one per service): known AWS / GenAI services, else 'Other (<category>)'
        case
            when service_code like 'AmazonBedrock%' or lower(service_name) like '%bedrock%'
                or lower(service_name) like '%openai%' or lower(service_name) like '%gemini%'
                or lower(service_name) like '%vertex ai%' then 'Generative AI'
            when service_code = 'AmazonSageMaker' or lower(service_name) like '%sagemaker%' then 'Machine Learning'
            when service_code = 'AmazonEC2' then 'Virtual Machines'
            when service_code = 'AmazonS3' then 'Object Storage'
            when service_code = 'AmazonCloudWatch' then 'Observability'
            when service_code like 'AWSSupport%' then 'Support'
            else 'Other (' || coalesce(service_category, 'Other') || ')'
        end as "ServiceSubcategory",
        region_id as "RegionId",
        availability_zone as "AvailabilityZone",
        resource_id as "ResourceId",
        resource_name as "ResourceName",
        case when resource_id is not null then coalesce(
            resource_type,
            -- ARN arn:partition:service:region:account:type/name -> type
            nullif(split_part(split_part(resource_id, ':', 6), '/', 1), ''),
            service_name, service_code)
        end as "ResourceType",
        case when charge_category <> 'Tax' then sku_id end as "SkuId",
        case when charge_category <> 'Tax' then sku_id end as "SkuPriceId",
        case when charge_category <> 'Tax' and sku_id is not null then usage_type end as "SkuMeter",
        case
            when charge_category = 'Tax' then null
            when pricing_category in ('Standard', 'Dynamic', 'Committed', 'Other') then pricing_category
            when priced_charge then 'Standard'
        end as "PricingCategory",
        case when charge_category <> 'Tax' then pricing_unit_focus end as "PricingUnit",
        case when charge_category <> 'Tax' then pricing_quantity end as "PricingQuantity",
        case when charge_category = 'Usage' then coalesce(consumed_quantity, pricing_quantity) end
            as "ConsumedQuantity",
        case when charge_category = 'Usage' and coalesce(consumed_quantity, pricing_quantity) is not null
            then coalesce(consumed_unit_focus, pricing_unit_focus) end as "ConsumedUnit",
        -- unit prices are rates, derived by division (a double in DuckDB), kept to 18 decimals
        case when charge_category <> 'Tax' and pricing_quantity <> 0
            then cast(cast(list_cost_filled as double) / cast(pricing_quantity as double) as decimal(38, 18))
            when priced_charge then cast(0 as decimal(38, 18))
        end as "ListUnitPrice",
        case when charge_category <> 'Tax' and pricing_quantity <> 0
            then cast(cast(contracted_cost_filled as double) / cast(pricing_quantity as double) as decimal(38, 18))
            when priced_charge then cast(0 as decimal(38, 18))
        end as "ContractedUnitPrice",
        commitment_discount_id as "CommitmentDiscountId",
        billing_currency as "BillingCurrency",
        billed_cost as "BilledCost",
        effective_cost as "EffectiveCost",
        list_cost_filled as "ListCost",
        contracted_cost_filled as "ContractedCost",
        -- DuckDB-only: to_json of a map gives a JSON object
        case when cardinality(tags) > 0 then cast(to_json(tags) as varchar) end as "Tags",
        service_code as "x_ServiceCode",
        usage_type as "x_UsageType",
        operation as "x_Operation",
        line_item_type as "x_LineItemType"
    from prepared
)

select * from final
