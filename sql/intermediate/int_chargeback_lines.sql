-- The chargeback rows behind marts.chargeback_live (which shows them without the two build columns at the end): each
-- billed cost line's share per department, team, agent, model and cost kind, in FOCUS 1.2 form plus x_ allocation
-- columns. day: the line's charge date; is_shared_pot: the line belongs to a shared-overhead pot.
-- grain: line_key, x_CostKind, x_Department, x_Team, x_Agent, x_Model, x_Environment, x_AllocationReason
-- materialized: table
-- incremental: day
-- always rebuilt where: is_shared_pot

-- The allocation splits pots (groups of lines: a token group of an hour, a shared rule's period) over claims
-- (requests, teams). Here each pot's claims, grouped by allocation target, are split again over the pot's lines so
-- every row keeps its line's FOCUS attributes (service, account, SKU, region). The second split is exact in both
-- directions, in integers of 1e-10 (HUGEINT): with C the running total of the targets' amounts and L the running
-- total of the lines' amounts, cell(k, l) = F(C_k, L_l) - F(C_k-1, L_l) - F(C_k, L_l-1) + F(C_k-1, L_l-1) with
-- F(c, l) = floor(c x l / pot total). The sums telescope: each target's cells add up to its allocated amount (so
-- the chargeback agrees with marts.allocated_cost to the last 1e-10) and each line's cells add up to the line (so
-- the month adds up to the bill). Quantities, ListCost and ContractedCost are shared by the targets' weights
-- (floor, to 1e-10): they are informative, only BilledCost and EffectiveCost are conserved exactly.
--
-- Speed: almost every pot has one line (a token group's line, a capacity hour, a tagged line); there the formula
-- reduces to the target's own amount (L_l is the pot total, L_l-1 is 0, so F(C, L_l) = C and F(C, L_l-1) = 0), and
-- that case skips the running totals and the four 128-bit floor divisions, which cost most of this table's time.
-- Amounts are summed in the integer units the allocation tables carry (billed_units), not as decimals.
-- Incremental: a GenAI pot (tokens, capacity, direct, unallocated) lives on one day, its lines and claims with it, so
-- only the scope's days are split again. Shared-overhead pots are split by spend over their whole period
-- (int_shared_allocated is rebuilt by every build), so their rows are rebuilt by every build too.
with

claims as (
    select
        pot_id, cost_kind, department, team, agent, model, environment, reason, weight, billed_units,
        effective_units
    from intermediate.int_genai_allocated
    where day in (select day from meta.build_scope)
    union all
    select
        pot_id, cost_kind, department, team, cast(null as varchar), cast(null as varchar), environment, reason,
        weight, billed_units, effective_units
    from intermediate.int_shared_allocated
),

targets as (
    select
        pot_id, cost_kind, department, team, agent, model, environment, reason,
        sum(weight) as weight,
        count(*) as claims,
        sum(billed_units) as billed_units,
        sum(effective_units) as effective_units
    from claims
    group by pot_id, cost_kind, department, team, agent, model, environment, reason
),

pot_targets as (
    select pot_id, sum(weight) as pot_weight, sum(claims) as pot_claims
    from targets
    group by pot_id
),

lines as (
    select
        r.pot_id,
        r.route,
        r.line_key,
        r.capacity_rule,
        r.shared_rule,
        r.charge_date as day,
        r.route in ('shared_rule', 'shared') as is_shared_pot,
        cast(r.billed_cost * 10000000000 as hugeint) as billed_units,
        cast(r.effective_cost * 10000000000 as hugeint) as effective_units
    from intermediate.int_cost_line_routes as r
    where r.charge_date in (select day from meta.build_scope) or r.route in ('shared_rule', 'shared')
),

lines_running as (
    select
        *,
        sum(billed_units) over line_order as billed_to,
        sum(effective_units) over line_order as effective_to,
        sum(billed_units) over (partition by pot_id) as pot_billed,
        sum(effective_units) over (partition by pot_id) as pot_effective,
        count(*) over (partition by pot_id) as pot_lines
    from lines
    window line_order as (partition by pot_id order by line_key rows between unbounded preceding and current row)
),

-- running totals of the targets, needed only where a pot has several lines
targets_running as (
    select
        *,
        row_number() over target_order as target_rank,
        sum(billed_units) over target_order as billed_to,
        sum(effective_units) over target_order as effective_to
    from targets
    where pot_id in (select pot_id from lines_running where pot_lines > 1)
    window target_order as (
        partition by pot_id
        order by cost_kind, department, team, agent nulls first, model nulls first, environment nulls first,
            reason nulls first
        rows between unbounded preceding and current row
    )
),

-- One line: the target's own amount (see the header). A pot's targets add up to its total, so when a one-line pot
-- totals zero every target's amount is zero too.
single_line_cells as (
    select
        l.line_key, l.route, l.capacity_rule, l.shared_rule, l.day, l.is_shared_pot,
        t.cost_kind, t.department, t.team, t.agent, t.model, t.environment, t.reason, t.pot_id,
        t.weight, t.claims,
        t.billed_units,
        t.effective_units
    from lines_running as l
    inner join targets as t on t.pot_id = l.pot_id
    where l.pot_lines = 1
),

-- The four corner products of the formula, each computed once (floor_div repeats its arguments, and a 128-bit
-- product costs far more than reading a column).
multi_line_products as (
    select
        l.line_key, l.route, l.capacity_rule, l.shared_rule, l.day, l.is_shared_pot, l.pot_billed, l.pot_effective,
        l.billed_units as line_billed_units, l.effective_units as line_effective_units,
        t.cost_kind, t.department, t.team, t.agent, t.model, t.environment, t.reason, t.pot_id,
        t.weight, t.claims, t.target_rank,
        t.billed_to * l.billed_to as b11,
        (t.billed_to - t.billed_units) * l.billed_to as b01,
        t.billed_to * (l.billed_to - l.billed_units) as b10,
        (t.billed_to - t.billed_units) * (l.billed_to - l.billed_units) as b00,
        t.effective_to * l.effective_to as e11,
        (t.effective_to - t.effective_units) * l.effective_to as e01,
        t.effective_to * (l.effective_to - l.effective_units) as e10,
        (t.effective_to - t.effective_units) * (l.effective_to - l.effective_units) as e00
    from lines_running as l
    inner join targets_running as t on t.pot_id = l.pot_id
    where l.pot_lines > 1
),

-- DuckDB-only: `//` and `%` on HUGEINT truncate toward zero; floor_div corrects that for negative quotients.
multi_line_cells as (
    select
        line_key, route, capacity_rule, shared_rule, day, is_shared_pot,
        cost_kind, department, team, agent, model, environment, reason, pot_id,
        weight, claims,
        case when pot_billed = 0 then (case when target_rank = 1 then line_billed_units else 0 end)
        else floor_div(b11, pot_billed) - floor_div(b01, pot_billed) - floor_div(b10, pot_billed)
            + floor_div(b00, pot_billed)
        end as billed_units,
        case when pot_effective = 0 then (case when target_rank = 1 then line_effective_units else 0 end)
        else floor_div(e11, pot_effective) - floor_div(e01, pot_effective) - floor_div(e10, pot_effective)
            + floor_div(e00, pot_effective)
        end as effective_units
    from multi_line_products
),

cells as (
    select c.*, p.pot_weight, p.pot_claims
    from (select * from single_line_cells union all select * from multi_line_cells) as c
    inner join pot_targets as p on p.pot_id = c.pot_id
),

-- a line's informative amounts in integer units of 1e-10, converted once per line rather than once per cell
line_amounts as (
    select
        line_key,
        cast("PricingQuantity" * 10000000000 as hugeint) as pricing_quantity_units,
        cast("ConsumedQuantity" * 10000000000 as hugeint) as consumed_quantity_units,
        cast("ListCost" * 10000000000 as hugeint) as list_cost_units,
        cast("ContractedCost" * 10000000000 as hugeint) as contracted_cost_units
    from marts.focus_cost_lines
),

-- a target's share of a line's quantities and list/contracted cost: its weight in the pot (claims when all weigh 0)
shares as (
    select
        c.*,
        case when c.pot_weight = 0 then cast(c.claims as hugeint) else c.weight end as share_num,
        case when c.pot_weight = 0 then cast(c.pot_claims as hugeint) else c.pot_weight end as share_den
    from cells as c
),

share_products as (
    select
        s.*,
        a.pricing_quantity_units * s.share_num as pricing_quantity_product,
        a.consumed_quantity_units * s.share_num as consumed_quantity_product,
        a.list_cost_units * s.share_num as list_cost_product,
        a.contracted_cost_units * s.share_num as contracted_cost_product
    from shares as s
    inner join line_amounts as a on a.line_key = s.line_key
),

shared_out as (
    select p.*, f.*
    from share_products as p
    inner join marts.focus_cost_lines as f on f.line_key = p.line_key
),

final as (
    select
        s."BillingPeriodStart", s."BillingPeriodEnd", s."ChargePeriodStart", s."ChargePeriodEnd",
        s."BillingAccountId", s."BillingAccountName", s."SubAccountId", s."SubAccountName",
        s."ProviderName", s."PublisherName", s."InvoiceIssuerName", s."InvoiceId",
        s."ChargeCategory", s."ChargeClass", s."ChargeFrequency", s."ChargeDescription",
        s."ServiceName", s."ServiceCategory", s."ServiceSubcategory", s."RegionId", s."AvailabilityZone",
        s."ResourceId", s."ResourceName", s."ResourceType", s."SkuId", s."SkuPriceId", s."SkuMeter",
        s."PricingCategory", s."PricingUnit",
        units_to_money(floor_div(s.pricing_quantity_product, s.share_den)) as "PricingQuantity",
        units_to_money(floor_div(s.consumed_quantity_product, s.share_den)) as "ConsumedQuantity",
        s."ConsumedUnit", s."ListUnitPrice", s."ContractedUnitPrice", s."CommitmentDiscountId",
        s."BillingCurrency",
        units_to_money(s.billed_units) as "BilledCost",
        units_to_money(s.effective_units) as "EffectiveCost",
        units_to_money(floor_div(s.list_cost_product, s.share_den)) as "ListCost",
        units_to_money(floor_div(s.contracted_cost_product, s.share_den)) as "ContractedCost",
        s."Tags", s."x_ServiceCode", s."x_UsageType", s."x_Operation", s."x_LineItemType",
        s.department as "x_Department",
        s.team as "x_Team",
        s.agent as "x_Agent",
        s.model as "x_Model",
        s.environment as "x_Environment",
        s.cost_kind as "x_CostKind",
        case s.cost_kind
            when 'tokens' then 'estimate-weighted'
            when 'capacity' then 'capacity-' || coalesce(cap.split_by, 'tokens')
            when 'idle' then 'idle-' || coalesce(cap.idle_policy, 'central')
            when 'direct' then 'direct-tag'
            when 'unallocated' then 'unallocated'
            when 'shared_overhead' then
                case when s.team = '__shared__' then 'unshared' else 'shared-' || coalesce(sc.method, 'rule') end
            else s.cost_kind
        end as "x_AllocationMethod",
        coalesce(cap.name, s.shared_rule) as "x_AllocationRule",
        s.reason as "x_AllocationReason",
        cast(null as date) as "x_AdjustedBillingPeriod",
        cast(null as timestamp) as "x_ClosedAt",
        s.day,
        s.is_shared_pot
    from shared_out as s
    left join ref.capacity as cap on cap.rule_order = s.capacity_rule
    left join ref.shared_costs as sc on sc.name = s.shared_rule
    where s.billed_units <> 0 or s.effective_units <> 0 or s.share_num <> 0
)

select * from final
