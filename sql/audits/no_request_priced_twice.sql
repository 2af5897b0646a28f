-- Each request is priced once and each (request, token type) is billed at most once: returns requests with more
-- than one priced row, (request, token type) pairs claimed by more than one bill group, and requests claimed by
-- both a token bill group and a capacity resource or by two capacity resources in the same hour.
-- Grouped on the key columns (not on concatenated strings): the keys are only joined into text for failing rows.
-- Only the audited days (temp.audit_days): an incremental build rewrites only its days, and a request and its claims
-- live on one day (the claims of a pot all on the pot's day).
select 'priced ' || cast(count(*) as varchar) || ' times' as problem, source_format || '|' || request_id as item
from intermediate.int_requests_priced
where usage_date in (select day from audit_days)
group by source_format, request_id
having count(*) > 1

union all

select 'token usage billed ' || cast(count(*) as varchar) || ' times',
    source_format || '|' || request_id || '|' || token_type
from intermediate.int_genai_claims
where cost_kind = 'tokens' and day in (select day from audit_days)
group by source_format, request_id, token_type
having count(*) > 1

union all

select 'request billed as tokens and as capacity', t.source_format || '|' || t.request_id
from (select distinct source_format, request_id from intermediate.int_genai_claims
      where cost_kind = 'tokens' and day in (select day from audit_days)) as t
inner join (select distinct source_format, request_id from intermediate.int_genai_claims
            where cost_kind = 'capacity' and day in (select day from audit_days)) as c
    on c.source_format = t.source_format and c.request_id = t.request_id

union all

select 'request claimed by ' || cast(count(*) as varchar) || ' capacity hours', source_format || '|' || request_id
from intermediate.int_genai_claims
where cost_kind = 'capacity' and day in (select day from audit_days)
group by source_format, request_id
having count(*) > 1
