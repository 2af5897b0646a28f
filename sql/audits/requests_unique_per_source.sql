-- Request ids are unique per source format: returns each (source_format, request_id) loaded more than once.
-- Zero rows means re-loads and overlapping files never double a request.
select
    source_format,
    request_id,
    count(*) as copies
from raw.inference_requests
group by source_format, request_id
having count(*) > 1
