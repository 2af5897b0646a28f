"""LiteLLM proxy spend logs for the OpenAI traffic: `LiteLLM_SpendLogs` rows exported as gzip JSON lines, one
file per day (gateway-logs/litellm/YYYY/MM/spend-logs-YYYY-MM-DD.jsonl.gz).

OpenAI semantics: `prompt_tokens` INCLUDES cached tokens (`metadata.usage_object.prompt_tokens_details
.cached_tokens` is the cached subset). `spend` is LiteLLM's own estimate from list prices, not billing truth.
`api_key` is LiteLLM's hashed virtual key; `user` and `end_user` are identities that ingest must hash.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa

from costwarden.demo.company import AGENTS, TEAM_DEPARTMENT
from costwarden.demo.incidents import Window
from costwarden.demo.logs import write_chunked

GATEWAY_ROOT = "gateway-logs/litellm"
ORG_ID = str(uuid.UUID(hashlib.md5(b"acme-org").hexdigest()))


def _stable_uuid(text: str) -> str:
    return str(uuid.UUID(hashlib.md5(text.encode()).hexdigest()))


def _gateway_dimensions() -> pa.Table:
    return pa.table({
        "agent": list(range(len(AGENTS))),
        "api_key_hash": [hashlib.sha256(f"sk-acme-{a.name}".encode()).hexdigest() for a in AGENTS],
        "key_alias": [f"{a.name}-prod" for a in AGENTS],
        "team_uuid": [_stable_uuid("team:" + a.team) for a in AGENTS],
        "deployment_uuid": [_stable_uuid("deployment:" + a.model) for a in AGENTS],
        "department_name": [TEAM_DEPARTMENT[a.team] for a in AGENTS],
    })


_LITELLM_SQL = """
with priced as (
    select r.*, g.*,
        cast(coalesce(pi.usd_per_million, 0) * r.input_tokens + coalesce(pc.usd_per_million, 0) * r.cache_read_tokens
             + coalesce(po.usd_per_million, 0) * r.output_tokens as double) / 1e6 as spend,
        strftime(r.ts, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' as start_text,
        strftime(r.ts + to_milliseconds(cast(r.latency_ms as bigint)), '%Y-%m-%dT%H:%M:%S.%g') || 'Z' as end_text,
        strftime(r.ts + to_milliseconds(cast(case when r.streaming then r.ttft_ms else r.latency_ms end as bigint)),
                 '%Y-%m-%dT%H:%M:%S.%g') || 'Z' as first_token_text
    from demo_requests r
    join demo_gateway g using (agent)
    left join demo_prices pi on pi.provider = r.provider and pi.model = r.canonical and pi.region = '*'
        and pi.token_type = 'input' and pi.day = cast(r.ts as date)
    left join demo_prices pc on pc.provider = r.provider and pc.model = r.canonical and pc.region = '*'
        and pc.token_type = 'cache_read' and pc.day = cast(r.ts as date)
    left join demo_prices po on po.provider = r.provider and po.model = r.canonical and po.region = '*'
        and po.token_type = 'output' and po.day = cast(r.ts as date)
    where r.provider = 'openai' and r.at_ms >= $start_ms + $lo * 3600000::bigint and r.at_ms < $start_ms + $hi * 3600000::bigint
)
select
    strftime(ts, '%Y/%m') || '/spend-logs-' || strftime(ts, '%Y-%m-%d') || '.jsonl.gz' as relpath,
    '{"request_id":"chatcmpl-' || replace(request_uuid, '-', '') || '","call_type":"acompletion","api_key":"'
    || api_key_hash || '","spend":' || case when error_code is null then printf('%.12g', spend) else '0.0' end
    || ',"total_tokens":' || (input_tokens + cache_read_tokens + output_tokens)
    || ',"prompt_tokens":' || (input_tokens + cache_read_tokens) || ',"completion_tokens":' || output_tokens
    || ',"startTime":"' || start_text || '","endTime":"' || end_text || '","completionStartTime":"'
    || first_token_text || '","request_duration_ms":' || latency_ms::bigint
    || ',"model":"' || model_key || '","model_id":"' || deployment_uuid || '","model_group":"' || model_key
    || '","custom_llm_provider":"openai","api_base":"https://api.openai.com/v1","user":"'
    || case when has_end_users then 'svc-' || agent_name else session_name end
    || '","metadata":{"user_api_key":"' || api_key_hash || '","user_api_key_alias":"' || key_alias
    || '","user_api_key_team_id":"' || team_uuid || '","user_api_key_team_alias":"' || team
    || '","user_api_key_org_id":"' || $org || '","user_api_key_user_id":"svc-' || agent_name
    || '","spend_logs_metadata":{"agent":"' || agent_name || '","task_type":"' || task_type || '","trace_id":"'
    || trace_id || '","environment":"prod"'
    || case when quality is not null then ',"quality_score":"' || printf('%.2f', quality) || '"' else '' end
    || '},"requester_ip_address":"","status":"' || case when error_code is null then 'success' else 'failure' end
    || '","usage_object":{"completion_tokens":' || output_tokens || ',"prompt_tokens":'
    || (input_tokens + cache_read_tokens) || ',"total_tokens":' || (input_tokens + cache_read_tokens + output_tokens)
    || ',"prompt_tokens_details":{"cached_tokens":' || cache_read_tokens || ',"audio_tokens":0}'
    || ',"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}}'
    || case when error_code is not null then ',"error_information":{"error_code":"' || http_status
       || '","error_class":"' || openai_class || '","llm_provider":"openai"}' else '' end
    || '},"cache_hit":"False","cache_key":"Cache OFF","request_tags":["team:' || team || '","agent:' || agent_name
    || '"],"team_id":"' || team_uuid || '","organization_id":"' || $org || '","end_user":"'
    || case when has_end_users then printf('cust-%05d', end_user) else '' end
    || '","requester_ip_address":"","messages":{},"response":{},"session_id":"' || trace_id || '","status":"'
    || case when error_code is null then 'success' else 'failure' end
    || '","mcp_namespaced_tool_name":null,"agent_id":"' || agent_name || '","proxy_server_request":{}}'
    || chr(10) as line
from priced
order by relpath, at_ms, req_hi
"""


def write_litellm_logs(con: duckdb.DuckDBPyConnection, w: Window, out: Path, on_file=None) -> int:
    """Needs `demo_requests` (frame.py) and `demo_prices` (pricing.py) on `con`. Returns files written."""
    con.register("demo_gateway", _gateway_dimensions())
    return write_chunked(con, _LITELLM_SQL, {"start_ms": w.start_ms, "org": ORG_ID}, out / GATEWAY_ROOT, w, on_file)
