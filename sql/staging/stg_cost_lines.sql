-- Billing cost lines (CUR, CUR 2.0, FOCUS) with charge date, a gen-AI flag and org attribution from tag/account rules.
-- grain: dataset, billing_period, _source_object, _source_row
-- materialized: view

-- Money stays in the billing currency (billing_currency), decimal(38, 10). Org mapping: per attribute, the matching
-- [[org_rules]] rule of match 'tag' (tags[key]) or 'account' (sub_account_id) with the lowest (priority, rule_order)
-- that sets it; else '__unmapped__'. is_genai marks Bedrock, SageMaker, GPU/accelerator EC2 and other gen-AI
-- services (Azure OpenAI, Vertex AI, Gemini) so spend on them can be told from the rest of the bill.
with

cost_lines as (
    select * from raw.cost_lines
),

org_rules as (
    select * from ref.org_rules
    where match in ('tag', 'account')
),

rule_matches as (
    select
        c.dataset,
        c.billing_period,
        c._source_object,
        c._source_row,
        o.priority,
        o.rule_order,
        o.team,
        o.department,
        o.environment
    from cost_lines as c
    inner join org_rules as o
        on case o.match
            when 'tag' then c.tags[o.key]    -- DuckDB map lookup: null when the key is absent
            when 'account' then c.sub_account_id
        end like o.like_pattern escape '\'
),

ranked_matches as (
    select
        dataset,
        billing_period,
        _source_object,
        _source_row,
        team,
        department,
        environment,
        row_number() over (
            partition by dataset, billing_period, _source_object, _source_row
            order by case when team is null then 1 else 0 end, priority, rule_order
        ) as team_rank,
        row_number() over (
            partition by dataset, billing_period, _source_object, _source_row
            order by case when department is null then 1 else 0 end, priority, rule_order
        ) as department_rank,
        row_number() over (
            partition by dataset, billing_period, _source_object, _source_row
            order by case when environment is null then 1 else 0 end, priority, rule_order
        ) as environment_rank
    from rule_matches
),

mapped as (
    select
        dataset,
        billing_period,
        _source_object,
        _source_row,
        max(case when team_rank = 1 then team end) as team,
        max(case when department_rank = 1 then department end) as department,
        max(case when environment_rank = 1 then environment end) as environment
    from ranked_matches
    group by dataset, billing_period, _source_object, _source_row
),

final as (
    select
        c.source_format,
        c.dataset,
        c.billing_period,
        c.billing_period_start,
        c.billing_period_end,
        c.charge_period_start,
        c.charge_period_end,
        cast(c.charge_period_start as date) as charge_date,
        c.provider_name,
        c.publisher_name,
        c.invoice_issuer_name,
        c.billing_account_id,
        c.sub_account_id,
        c.sub_account_name,
        c.charge_category,
        c.charge_class,
        c.charge_frequency,
        c.charge_description,
        c.line_item_type,
        c.service_name,
        c.service_category,
        c.service_code,
        c.region_id,
        c.availability_zone,
        c.resource_id,
        c.resource_name,
        c.resource_type,
        c.sku_id,
        c.usage_type,
        c.operation,
        c.iam_principal,
        c.pricing_category,
        c.pricing_unit,
        c.pricing_quantity,
        c.consumed_quantity,
        c.consumed_unit,
        c.commitment_discount_id,
        c.billed_cost,
        c.effective_cost,
        c.list_cost,
        c.contracted_cost,
        c.billing_currency,
        c.invoice_id,
        c.tags,
        coalesce(m.team, '__unmapped__') as team,
        coalesce(m.department, '__unmapped__') as department,
        coalesce(m.environment, '__unmapped__') as environment,
        case
            when c.service_code in (
                'AmazonBedrock', 'AmazonBedrockFoundationModels', 'AmazonBedrockService',
                'AmazonBedrockAgentCore', 'AmazonSageMaker'
            ) then true
            -- Marketplace-billed Bedrock models: "Claude Sonnet 4.5 (Amazon Bedrock Edition)"
            when lower(c.service_name) like '%bedrock%' or lower(c.service_name) like '%sagemaker%' then true
            -- EC2 GPU / accelerator families (p*, g*, inf*, trn*, dl*) on any purchase option
            when (c.service_code = 'AmazonEC2' or c.service_name = 'Amazon Elastic Compute Cloud')
                and (
                    c.usage_type like '%Usage:p%' or c.usage_type like '%Usage:g%'
                    or c.usage_type like '%Usage:inf%' or c.usage_type like '%Usage:trn%'
                    or c.usage_type like '%Usage:dl%'
                ) then true
            when lower(c.service_name) like '%openai%' or lower(c.service_name) like '%vertex ai%'
                or lower(c.service_name) like '%gemini%' then true
            else false
        end as is_genai,
        c._load_id,
        c._source_object,
        c._source_row
    from cost_lines as c
    left join mapped as m
        on m.dataset = c.dataset
        and m.billing_period = c.billing_period
        and m._source_object = c._source_object
        and m._source_row is not distinct from c._source_row
)

select * from final
