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
    select
        *,
        cast(pot_billed_cost * 10000000000 as hugeint) as billed_units,
        cast(pot_effective_cost * 10000000000 as hugeint) as effective_units,
        sum(weight) over (partition by pot_id) as pot_weight
    from intermediate.int_genai_claims
    where day in (select day from meta.build_scope)    -- incremental: a pot lives on one day
),

-- A pot whose weights are all zero splits evenly (every claim weight 1), so the remainder stays below the count.
weighted as (
    select
        *,
        case when pot_weight = 0 then cast(1 as hugeint) else weight end as share_weight,
        case when pot_weight = 0 then count(*) over (partition by pot_id) else pot_weight end as share_total,
        row_number() over (partition by pot_id order by weight desc, claim_key) as remainder_rank
    from claims
),

-- DuckDB-only: `//` is integer division (operands are non-negative here, so it is floor division).
floored as (
    select
        *,
        abs(billed_units) * share_weight // share_total as billed_floor,
        abs(effective_units) * share_weight // share_total as effective_floor
    from weighted
),

remainders as (
    select
        *,
        abs(billed_units) - sum(billed_floor) over (partition by pot_id) as billed_left,
        abs(effective_units) - sum(effective_floor) over (partition by pot_id) as effective_left
    from floored
),

final as (
    select
        pot_id, claim_key, day, billing_currency, cost_kind, team, department, agent, model, environment, region,
        request_key, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated_cost, reason,
        is_genai, weight,
        cast(cast(sign(billed_units) * (billed_floor + case when remainder_rank <= billed_left then 1 else 0 end)
                  as decimal(38, 0)) * cast(0.0000000001 as decimal(11, 10)) as decimal(38, 10)) as billed_cost,
        cast(cast(sign(effective_units) * (effective_floor
                  + case when remainder_rank <= effective_left then 1 else 0 end)
                  as decimal(38, 0)) * cast(0.0000000001 as decimal(11, 10)) as decimal(38, 10)) as effective_cost
    from remainders
)

select * from final
