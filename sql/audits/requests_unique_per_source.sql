-- Request ids are unique per source format: returns each (source_format, request_id) loaded more than once.
-- Zero rows means re-loads and overlapping files never double a request.
-- Checks the ids of the audited days (temp.audit_days: every day on a full build, the build's days on an incremental
-- one) against every row loaded, so a copy of an older request on a new day is still found.
with

audited_ids as (
    select distinct source_format, request_id
    from raw.inference_requests
    where cast(occurred_at as date) in (select day from audit_days)
)

select
    r.source_format,
    r.request_id,
    count(*) as copies
from raw.inference_requests as r
inner join audited_ids as a on a.source_format = r.source_format and a.request_id = r.request_id
group by r.source_format, r.request_id
having count(*) > 1
