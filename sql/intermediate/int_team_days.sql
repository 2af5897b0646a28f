-- The teams (and their departments) that sent requests on each day: who an `even` shared-cost rule shares with,
-- and each team's department for `fixed` shares. Small, so int_shared_allocated never scans all requests.
-- grain: usage_date, team, department
-- materialized: table
-- incremental: usage_date
with

final as (
    select distinct usage_date, team, department
    from intermediate.int_requests_priced
    where usage_date in (select day from meta.build_scope)
)

select * from final
