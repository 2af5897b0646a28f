-- Each billing cost line takes exactly one allocation route: returns lines routed twice or not at all, and pots whose
-- allocated amounts do not add up to the pot to the last 1e-10. Only the audited days (temp.audit_days): a line's
-- routes and a pot's claims live on the line's charge date.
select 'line routed ' || cast(count(r.line_key) as varchar) || ' times' as problem,
    l.dataset || '|' || cast(l.billing_period as varchar) || '|' || l._source_object || '|'
        || coalesce(cast(l._source_row as varchar), '') as line_key
from (select * from staging.stg_cost_lines
      where charge_date in (select day from audit_days) or charge_date is null) as l
left join intermediate.int_cost_line_routes as r
    on r.dataset = l.dataset
    and r.billing_period = l.billing_period
    and r._source_object = l._source_object
    and r._source_row is not distinct from l._source_row
group by l.dataset, l.billing_period, l._source_object, l._source_row
having count(r.line_key) <> 1

union all

select 'pot allocated ' || cast(sum(billed_cost) as varchar) || ' of ' || cast(max(pot_billed_cost) as varchar),
    pot_id
from (
    select a.pot_id, a.billed_cost, c.pot_billed_cost
    from intermediate.int_genai_allocated as a
    inner join (select distinct pot_id, pot_billed_cost from intermediate.int_genai_claims
                where day in (select day from audit_days)) as c
        on c.pot_id = a.pot_id
    where a.day in (select day from audit_days)
) as p
group by pot_id
having sum(billed_cost) <> max(pot_billed_cost)
