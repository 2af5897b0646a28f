"""Fixtures for the LiteLLM tests: one real PostgreSQL server per session, a fresh database per test holding the
proxy's real `LiteLLM_SpendLogs` table, and a seeded factory of realistic spend-log rows (bodies included, with
secret markers that must never reach the warehouse)."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.ingest.pg_server import PostgresServer

# The table as LiteLLM's Prisma schema creates it in PostgreSQL (String -> text, Float -> double precision,
# Int -> integer, DateTime -> timestamp(3), Json -> jsonb).
SPEND_LOGS_DDL = """
create table "LiteLLM_SpendLogs" (
    "request_id" text not null primary key,
    "call_type" text not null,
    "api_key" text not null default '',
    "spend" double precision not null default 0.0,
    "total_tokens" integer not null default 0,
    "prompt_tokens" integer not null default 0,
    "completion_tokens" integer not null default 0,
    "startTime" timestamp(3) not null,
    "endTime" timestamp(3) not null,
    "request_duration_ms" integer,
    "completionStartTime" timestamp(3),
    "model" text not null default '',
    "model_id" text default '',
    "model_group" text default '',
    "custom_llm_provider" text default '',
    "api_base" text default '',
    "user" text default '',
    "metadata" jsonb default '{}',
    "cache_hit" text default '',
    "cache_key" text default '',
    "request_tags" jsonb default '[]',
    "team_id" text,
    "organization_id" text,
    "end_user" text,
    "requester_ip_address" text,
    "messages" jsonb default '{}',
    "response" jsonb default '{}',
    "session_id" text,
    "status" text,
    "mcp_namespaced_tool_name" text,
    "billing_agent_id" text,
    "agent_id" text,
    "proxy_server_request" jsonb default '{}',
    "litellm_call_id" text,
    "created_at" timestamp(3) default current_timestamp,
    "updated_at" timestamp(3) default current_timestamp
);
create index on "LiteLLM_SpendLogs" ("startTime");
create index on "LiteLLM_SpendLogs" ("end_user");
create index on "LiteLLM_SpendLogs" ("session_id");
create index on "LiteLLM_SpendLogs" ("api_key", "startTime");
"""
JSON_COLUMNS = ("metadata", "request_tags", "messages", "response", "proxy_server_request")
SECRETS = ("PROMPT-SECRET", "RESPONSE-SECRET", "alice@acme.example", "sk-live-")


def spend_log(i: int, when: datetime, *, rng: random.Random | None = None, **overrides) -> dict:
    """One realistic spend-log row (Bedrock Claude through the proxy, with prompt caching)."""
    rng = rng or random.Random(i)
    uncached, cache_read, cache_write = rng.randint(200, 3000), rng.choice([0, 0, 1024]), rng.choice([0, 64])
    completion, latency, ttft = rng.randint(10, 600), rng.randint(300, 6000), rng.randint(100, 300)
    row = {
        "request_id": f"chatcmpl-{i:06d}-{rng.getrandbits(40):010x}",
        "call_type": "acompletion",
        "api_key": hashlib.sha256(f"sk-live-{i % 3}".encode()).hexdigest(),  # LiteLLM stores the key hashed
        "spend": round(rng.uniform(0.00001, 0.02), 9),
        "total_tokens": uncached + cache_read + cache_write + completion,
        "prompt_tokens": uncached + cache_read + cache_write,      # OpenAI semantics: includes cached input
        "completion_tokens": completion,
        "startTime": when,
        "endTime": when + timedelta(milliseconds=latency),
        "request_duration_ms": latency,
        "completionStartTime": when + timedelta(milliseconds=ttft),
        "model": "bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "model_id": "3f1c9b7e2d",
        "model_group": "claude-haiku",
        "custom_llm_provider": "bedrock",
        "api_base": "https://bedrock-runtime.us-east-1.amazonaws.com",
        "user": f"alice@acme.example-{i % 4}",
        "metadata": {
            "user_api_key_alias": "search-service", "user_api_key_team_alias": "search",
            "user_api_key_user_id": "alice@acme.example", "requester_ip_address": "10.1.2.3",
            "spend_logs_metadata": {"agent": "answer-bot", "environment": "prod",
                                    "note": {"text": "PROMPT-SECRET nested objects are not tags"}},
            "usage_object": {"prompt_tokens": uncached + cache_read + cache_write, "completion_tokens": completion,
                             "cache_read_input_tokens": cache_read, "cache_creation_input_tokens": cache_write,
                             "prompt_tokens_details": {"cached_tokens": cache_read}},
            "proxy_server_request": "PROMPT-SECRET: the raw request body",
            "status": "success",
        },
        "cache_hit": "False",
        "cache_key": "",
        "request_tags": ["prod", "search"],
        "team_id": "team-8c1f",
        "organization_id": "org-acme",
        "end_user": None,
        "requester_ip_address": "10.1.2.3",
        "messages": [{"role": "user", "content": "PROMPT-SECRET: summarise the quarterly numbers"}],
        "response": {"choices": [{"message": {"content": "RESPONSE-SECRET: revenue grew 12%"}}]},
        "session_id": f"session-{i // 5}",
        "status": "success",
        "agent_id": None,
        "proxy_server_request": {"body": {"messages": "PROMPT-SECRET"}},
        "litellm_call_id": str(uuid.UUID(int=rng.getrandbits(128))),
    }
    row.update(overrides)
    return row


def spend_logs(n: int, start: datetime, *, seed: int = 7, step: timedelta = timedelta(minutes=1)) -> list[dict]:
    rng = random.Random(seed)
    return [spend_log(seed * 100_000 + i, start + i * step, rng=rng) for i in range(n)]


def uncached_input(row: dict) -> int:
    usage = row["metadata"]["usage_object"]
    return row["prompt_tokens"] - usage["cache_read_input_tokens"] - usage["cache_creation_input_tokens"]


class SpendLogsDatabase:
    """A database on the test server holding the LiteLLM table; `url` carries the password (as a user's would)."""

    def __init__(self, server: PostgresServer, name: str):
        self.server, self.name = server, name
        self.url = server.url(name)

    def connect(self):
        import psycopg
        return psycopg.connect(self.server.dsn(self.name), autocommit=True)

    def insert(self, rows: list[dict]) -> None:
        from psycopg.types.json import Jsonb

        with self.connect() as con:
            for row in rows:
                names = list(row)
                values = [Jsonb(row[n]) if n in JSON_COLUMNS and row[n] is not None else row[n] for n in names]
                columns = ", ".join(f'"{n}"' for n in names)
                marks = ", ".join(["%s"] * len(names))
                con.execute(f'insert into "LiteLLM_SpendLogs" ({columns}) values ({marks})', values)

    def execute(self, sql: str, params=None) -> None:
        with self.connect() as con:
            con.execute(sql, params)

    # Exports of the table as users make them.
    def export_csv(self, path: Path) -> None:
        """psql `\\copy (select * ...) to file csv header`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as con, path.open("wb") as out:
            with con.cursor().copy('copy (select * from "LiteLLM_SpendLogs" order by "startTime") to stdout '
                                   "with (format csv, header)") as copy:
                for data in copy:
                    out.write(data)

    def export_json_lines(self, path: Path) -> None:
        """One row_to_json object per line (what `psql -At -c "select row_to_json(t) ..."` writes)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as con:
            lines = con.execute('select row_to_json(t)::text from "LiteLLM_SpendLogs" t order by "startTime"')
            path.write_text("".join(line + "\n" for (line,) in lines))

    def export_json_array(self, path: Path) -> None:
        """A JSON array (json_agg, as DB tools' "export as JSON" write it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as con:
            (text,) = con.execute('select json_agg(t order by "startTime")::text from "LiteLLM_SpendLogs" t').fetchone()
            path.write_text(text)


def api_json(rows: list[dict]) -> str:
    """The proxy's /spend/logs response: a JSON array, ISO timestamps with a Z, metadata as an object."""
    def encode(value):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if isinstance(value, datetime) else value
    return json.dumps([{k: encode(v) for k, v in row.items()} for row in rows], indent=1)


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer(password=f"pw-{secrets.token_hex(8)}").start()
    yield server
    server.stop()


@pytest.fixture
def litellm_pg(postgres) -> SpendLogsDatabase:
    name = f"litellm_{uuid.uuid4().hex[:10]}"
    import psycopg
    with psycopg.connect(postgres.dsn(), autocommit=True) as con:
        con.execute(f"create database {name}")
    database = SpendLogsDatabase(postgres, name)
    database.execute(SPEND_LOGS_DDL)
    yield database
    with psycopg.connect(postgres.dsn(), autocommit=True) as con:
        con.execute(f"drop database if exists {name} with (force)")
