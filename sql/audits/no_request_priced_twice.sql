-- Each request is priced once and each (request, token type) is billed at most once: returns requests with more
-- than one priced row, (request, token type) pairs claimed by more than one bill group, and requests claimed by
-- both a token bill group and a capacity resource or by two capacity resources in the same hour.
select 'priced ' || cast(count(*) as varchar) || ' times' as problem, source_format || '|' || request_id as item
from intermediate.int_requests_priced
group by source_format, request_id
having count(*) > 1

union all

select 'token usage billed ' || cast(count(*) as varchar) || ' times', claim_key
from intermediate.int_genai_claims
where cost_kind = 'tokens'
group by claim_key
having count(*) > 1

union all

select 'request billed as tokens and as capacity', t.request_key
from (select distinct request_key from intermediate.int_genai_claims where cost_kind = 'tokens') as t
inner join (select distinct request_key from intermediate.int_genai_claims where cost_kind = 'capacity') as c
    on c.request_key = t.request_key

union all

select 'request claimed by ' || cast(count(*) as varchar) || ' capacity hours', request_key
from intermediate.int_genai_claims
where cost_kind = 'capacity'
group by request_key
having count(*) > 1
