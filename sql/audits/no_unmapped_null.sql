-- Org attribution never leaves a hole: returns staging rows whose team, department or environment is null.
-- Unattributed spend must show as '__unmapped__' so totals by team still add up to the whole.
-- Only the audited days (temp.audit_days).
select
    'staging.stg_inference_requests' as relation,
    source_format || ':' || request_id as row_key,
    team,
    department,
    environment
from staging.stg_inference_requests
where (team is null or department is null or environment is null)
    and usage_date in (select day from audit_days)

union all

select
    'staging.stg_cost_lines' as relation,
    dataset || ':' || cast(billing_period as varchar) || ':' || _source_object || ':'
        || coalesce(cast(_source_row as varchar), '') as row_key,
    team,
    department,
    environment
from staging.stg_cost_lines
where team is null or department is null or environment is null
