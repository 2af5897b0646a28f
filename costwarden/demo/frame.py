"""The simulated requests as one DuckDB view with names resolved (accounts, roles, callers, models, tasks, ids).

Both the log writers and the CUR writer read `demo_requests`, so a request's account, region, caller ARN, model
and hour are the same in the invocation logs as in the bill.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from costwarden.demo.company import AGENTS, MODELS, TASK_TYPES, TEAM_DEPARTMENT, provisioned_model_id, team_role
from costwarden.demo.traffic import ERROR_CLASSES


def _session_name(agent) -> str:
    """Caller session pattern: people for IDE-style tools (hashed at ingest), the workload name for services."""
    if agent.name == "coding-assistant":
        return "dev{:02d}@acme.example"
    if agent.sessions > 1:
        return "researcher{:02d}@acme.example"
    return agent.name + "-svc"


def _dimensions() -> dict[str, pa.Table]:
    agents = pa.table({
        "agent": list(range(len(AGENTS))),
        "agent_name": [a.name for a in AGENTS],
        "team": [a.team for a in AGENTS],
        "department": [TEAM_DEPARTMENT[a.team] for a in AGENTS],
        "metadata_team": [a.team if a.metadata_team == "" else a.metadata_team for a in AGENTS],
        "account_id": [a.account.id for a in AGENTS],
        "account_name": [a.account.name for a in AGENTS],
        "region": [a.account.region for a in AGENTS],
        "role": [team_role(a.team) for a in AGENTS],
        "session_pattern": [_session_name(a) for a in AGENTS],
        "multi_session": [a.sessions > 1 for a in AGENTS],
        "streaming": [a.streaming for a in AGENTS],
        "provisioned": [a.provisioned for a in AGENTS],
        "provisioned_model_id": [provisioned_model_id(a) for a in AGENTS],
        "has_end_users": [a.end_users > 0 for a in AGENTS],
        "interactive": [a.profile != "night_batch" for a in AGENTS],
    })
    models = list(MODELS.values())
    model_table = pa.table({
        "model": list(range(len(models))),
        "model_key": [m.key for m in models],
        "provider": [m.provider for m in models],
        "logged_model_id": [m.model_id for m in models],
        "canonical": [m.canonical for m in models],
        "cur_name": [m.cur_name for m in models],
        "cross_region": [m.model_id.startswith("us.") for m in models],
    })
    tasks = pa.table({"task": list(range(len(TASK_TYPES))), "task_type": list(TASK_TYPES)})
    errors = pa.table({"error": list(range(1, len(ERROR_CLASSES) + 1)), "error_code": list(ERROR_CLASSES),
                       "http_status": ["429", "408", "400", "500"],
                       "openai_class": ["RateLimitError", "Timeout", "BadRequestError", "InternalServerError"]})
    return {"demo_agents": agents, "demo_models": model_table, "demo_tasks": tasks, "demo_errors": errors}


def _uuid(hi: str, lo: str) -> str:
    """SQL for a version-4-shaped UUID string from two uint64 columns."""
    return (f"format('{{:08x}}-{{:04x}}-4{{:03x}}-{{:04x}}-{{:012x}}', {hi} >> 32, ({hi} >> 16) & 65535, "
            f"{hi} & 4095, (({lo} >> 48) & 16383) | 32768, {lo} & 281474976710655)")


def register(con: duckdb.DuckDBPyConnection, requests: pa.Table) -> None:
    """Materialise `demo_requests` once (formatting ids for a million rows is the costly part; every writer
    reads it several times)."""
    con.register("demo_requests_raw", requests)
    for name, table in _dimensions().items():
        con.register(name, table)
    con.execute(f"""
        create or replace temp table demo_requests as
        select r.*,
            make_timestamp(r.at_ms * 1000) as ts,
            date_trunc('hour', make_timestamp(r.at_ms * 1000)) as hour,
            a.agent_name, a.team, a.department, a.metadata_team, a.account_id, a.account_name, a.region, a.role,
            a.streaming, a.provisioned, a.has_end_users, a.interactive,
            case when a.multi_session then format(a.session_pattern, r.session) else a.session_pattern end
                as session_name,
            'arn:aws:sts::' || a.account_id || ':assumed-role/' || a.role || '/' ||
                case when a.multi_session then format(a.session_pattern, r.session) else a.session_pattern end
                as caller_arn,
            m.model_key, m.provider, m.canonical, m.cur_name, m.cross_region,
            case when a.provisioned then a.provisioned_model_id else m.logged_model_id end as model_id,
            t.task_type, e.error_code, e.http_status, e.openai_class,
            {_uuid('r.req_hi', 'r.req_lo')} as request_uuid,
            format('{{:016x}}{{:016x}}', r.trace_hi, r.trace_lo) as trace_id
        from demo_requests_raw r
        join demo_agents a using (agent)
        join demo_models m using (model)
        join demo_tasks t using (task)
        left join demo_errors e using (error)""")
    con.unregister("demo_requests_raw")
