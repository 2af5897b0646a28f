-- GenAI pots apportioned exactly over their claims: per pot, the claims' billed and effective amounts add up to the
-- pot's to the last 1e-10. grain: pot_id, claim_key
-- materialized: table
-- incremental: day

-- Largest-remainder apportionment in integers: amounts in units of 1e-10 as HUGEINT, each claim gets
-- floor(|amount| x weight / total weight), and the units left over (fewer than the number of claims) go one each to
-- the claims with the largest weights (largest estimates), ties by claim_key. Signs are applied after, so credits
-- (negative amounts) split the same way.
with

claims as (
    select *
    from intermediate.int_genai_claims
    where day in (select day from meta.build_scope)    -- incremental: a pot lives on one day
),

-- Per-pot totals by GROUP BY (one hash aggregate) rather than window sums over every claim.
pots as (
    select
        pot_id,
        sum(weight) as pot_weight,
        count(*) as pot_claims,
        cast(max(pot_billed_cost) * 10000000000 as hugeint) as billed_units,
        cast(max(pot_effective_cost) * 10000000000 as hugeint) as effective_units
    from claims
    group by pot_id
),

-- A pot whose weights are all zero splits evenly (every claim weight 1), so the remainder stays below the count.
-- DuckDB-only: `//` is integer division (operands are non-negative here, so it is floor division).
floored as (
    select
        c.*,
        p.billed_units,
        p.effective_units,
        abs(p.billed_units) * case when p.pot_weight = 0 then 1 else c.weight end
            // case when p.pot_weight = 0 then p.pot_claims else p.pot_weight end as billed_floor,
        abs(p.effective_units) * case when p.pot_weight = 0 then 1 else c.weight end
            // case when p.pot_weight = 0 then p.pot_claims else p.pot_weight end as effective_floor,
        row_number() over (partition by c.pot_id order by c.weight desc, c.claim_key) as remainder_rank
    from claims as c
    inner join pots as p on p.pot_id = c.pot_id
),

pot_floors as (
    select pot_id, sum(billed_floor) as billed_floors, sum(effective_floor) as effective_floors
    from floored
    group by pot_id
),

remainders as (
    select
        f.*,
        abs(f.billed_units) - p.billed_floors as billed_left,
        abs(f.effective_units) - p.effective_floors as effective_left
    from floored as f
    inner join pot_floors as p on p.pot_id = f.pot_id
),

amounts as (
    select
        *,
        largest_remainder_units(billed_units, billed_floor, remainder_rank, billed_left) as billed_amount_units,
        largest_remainder_units(effective_units, effective_floor, remainder_rank, effective_left)
            as effective_amount_units
    from remainders
),

-- The amounts also stay in integer units of 1e-10 (billed_units, effective_units): marts.chargeback_live sums them
-- per target, and summing integers is far cheaper than turning summed decimals back into units.
final as (
    select
        pot_id, claim_key, day, billing_currency, cost_kind, team, department, agent, model, environment, region,
        request_key, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated_cost, reason,
        is_genai, weight,
        units_to_money(billed_amount_units) as billed_cost,
        units_to_money(effective_amount_units) as effective_cost,
        billed_amount_units as billed_units,
        effective_amount_units as effective_units
    from amounts
)

select * from final
