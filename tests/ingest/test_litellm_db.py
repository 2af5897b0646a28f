"""LiteLLM spend logs read incrementally from a real PostgreSQL server (the proxy's own table layout)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import duckdb
import pytest

from costwarden.errors import ConfigError, SourceError
from ingest import litellm_db, runner
from tests.helpers import run_cli_process, snapshot, rows as _rows
from tests.ingest.conftest import SECRETS, spend_log, spend_logs, uncached_input

# Each test talks to the session's PostgreSQL server (about a second to start, a fresh database per test).
pytestmark = pytest.mark.slow

START = datetime(2025, 6, 1, 9, 0)




def _watermark(warehouse: str):
    return _rows(warehouse, "select watermark from meta.source_watermarks")


def _data(snap: dict) -> dict:
    return {k: v for k, v in snap.items() if k != "meta.loads(ok)"}


def test_initial_load_maps_tokens_cost_and_attribution(litellm_pg, warehouse, settings):
    rows = spend_logs(30, START)
    litellm_pg.insert(rows)
    report = runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    c = report.counts
    assert (c.rows_read, c.rows_loaded, c.rows_quarantined, c.files_loaded) == (30, 30, 0, 1)
    totals = _rows(warehouse, "select sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
                              "sum(cache_write_tokens), sum(reported_cost) from raw.inference_requests")[0]
    usage = [r["metadata"]["usage_object"] for r in rows]
    assert totals == (sum(uncached_input(r) for r in rows), sum(r["completion_tokens"] for r in rows),
                      sum(u["cache_read_input_tokens"] for u in usage),
                      sum(u["cache_creation_input_tokens"] for u in usage),
                      sum(Decimal(str(r["spend"])) for r in rows))
    first = rows[0]
    got = _rows(warehouse, "select occurred_at, provider, model_id, model, region, team, trace_id, operation, "
                           "latency_ms, ttft_ms, status, metadata['user_api_key_team_alias'], metadata['agent'], "
                           "metadata['tags'], agent, environment from raw.inference_requests where request_id = ?",
                [first["request_id"]])[0]
    assert got == (START, "aws.bedrock", first["model"], "anthropic.claude-3-5-haiku-20241022-v1:0", "us-east-1",
                   "team-8c1f", first["session_id"], "chat", float(first["request_duration_ms"]),
                   (first["completionStartTime"] - START) / timedelta(milliseconds=1), "success", "search",
                   "answer-bot", "prod,search", "answer-bot", "prod")


def test_bodies_and_raw_identities_never_reach_the_warehouse(litellm_pg, warehouse, settings):
    litellm_pg.insert(spend_logs(8, START))
    runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    con = duckdb.connect(warehouse, read_only=True)
    try:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_type = 'BASE TABLE'").fetchall()
        for schema, table in tables:
            text = con.execute(f"select cast(list(t) as varchar) from {schema}.{table} t").fetchone()[0] or ""
            for secret in SECRETS:
                assert secret not in text, f"{secret} stored in {schema}.{table}"
        hashes = con.execute("select distinct principal_hash, api_key_hash from raw.inference_requests").fetchall()
        assert all(len(p) == 64 and len(k) == 64 for p, k in hashes)
    finally:
        con.close()


def test_rerun_is_a_noop_and_new_rows_after_the_watermark_load_alone(litellm_pg, warehouse, settings):
    litellm_pg.insert(spend_logs(20, START))                       # 09:00 .. 09:19
    runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    before, mark = snapshot(warehouse), _watermark(warehouse)
    assert mark == [(START + timedelta(minutes=19),)]
    again = runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    # Every row is inside the one-hour overlap, so all are re-read and all are skipped, none counted as read.
    assert (again.counts.rows_read, again.counts.rows_loaded, again.counts.rows_skipped) == (0, 0, 20)
    assert _data(snapshot(warehouse)) == _data(before) and _watermark(warehouse) == mark
    litellm_pg.insert(spend_logs(5, START + timedelta(hours=3), seed=8))
    third = runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    # read from 09:19 - 1 h: the 20 old rows again (skipped) and the 5 new ones
    assert (third.counts.rows_read, third.counts.rows_loaded, third.counts.rows_skipped) == (5, 5, 20)
    assert _watermark(warehouse) == [(START + timedelta(hours=3, minutes=4),)]
    assert _rows(warehouse, "select count(*), count(distinct request_id) from raw.inference_requests") == [(25, 25)]


def test_late_row_inside_the_overlap_loads_once_and_one_older_than_the_overlap_is_not_read(
        litellm_pg, warehouse, settings):
    litellm_pg.insert(spend_logs(10, START, step=timedelta(minutes=10)))     # 09:00 .. 10:30
    runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    # Committed after that run: one newer row, one late row inside the 1 h overlap (10:30 - 1 h = 09:30), one
    # older than the overlap (the documented limit of a watermark).
    newer = spend_log(900, START + timedelta(minutes=95))
    late_inside = spend_log(901, START + timedelta(minutes=60))
    too_late = spend_log(902, START + timedelta(minutes=20))
    litellm_pg.insert([newer, late_inside, too_late])
    report = runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    assert (report.counts.rows_read, report.counts.rows_loaded, report.counts.rows_skipped) == (2, 2, 7)
    again = runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    assert (again.counts.rows_loaded, again.counts.rows_skipped) == (0, 8)   # 09:35 .. 10:35 re-read
    ids = {r[0] for r in _rows(warehouse, "select request_id from raw.inference_requests")}
    assert len(ids) == 12 and {newer["request_id"], late_inside["request_id"]} <= ids
    assert too_late["request_id"] not in ids


def test_bad_rows_are_quarantined_naming_the_database_row_and_the_rest_loads(litellm_pg, warehouse, settings):
    rows = spend_logs(4, START)
    negative = spend_log(50, START + timedelta(minutes=5), completion_tokens=-3)
    cache_exceeds_prompt = spend_log(51, START + timedelta(minutes=6), prompt_tokens=10)
    cache_exceeds_prompt["metadata"]["usage_object"]["cache_read_input_tokens"] = 500
    no_model = spend_log(52, START + timedelta(minutes=7), model="", custom_llm_provider="")
    litellm_pg.insert(rows + [negative, cache_exceeds_prompt, no_model])
    report = runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    c = report.counts
    assert (c.rows_read, c.rows_loaded, c.rows_quarantined) == (7, 4, 3)
    reasons = dict(_rows(warehouse, "select object_uri, reason || ' ' || field from meta.quarantine"))
    prefix = litellm_db.source_key(litellm_db.resolve_url(litellm_pg.url)) + "/LiteLLM_SpendLogs#"
    assert reasons == {prefix + negative["request_id"]: "negative token count output_tokens",
                       prefix + cache_exceeds_prompt["request_id"]: "negative token count input_tokens",
                       prefix + no_model["request_id"]: "missing mandatory field model_id"}
    # The refused rows are inside the next run's overlap: they stay refused once, not quarantined again.
    again = runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    assert (again.counts.rows_read, again.counts.rows_quarantined, again.counts.rows_skipped) == (0, 0, 7)
    assert _rows(warehouse, "select count(*) from meta.quarantine") == [(3,)]


def test_reads_in_chunks_with_one_ledger_entry_per_chunk(litellm_pg, warehouse, settings, monkeypatch):
    monkeypatch.setattr(litellm_db, "CHUNK_ROWS", 7)
    litellm_pg.insert(spend_logs(20, START))
    report = runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    assert (report.counts.files_loaded, report.counts.rows_loaded) == (3, 20)
    ledger = _rows(warehouse, "select object_uri, rows_read from meta.source_objects order by object_uri")
    assert [n for _, n in ledger] == [7, 7, 6]
    assert ledger[0][0].endswith("?startTime=2025-06-01 09:00:00..2025-06-01 09:06:00")


def test_url_from_an_environment_variable(litellm_pg, warehouse, settings, monkeypatch):
    litellm_pg.insert(spend_logs(3, START))
    monkeypatch.setenv("LITELLM_DATABASE_URL", litellm_pg.url.replace("postgresql+psycopg://", "postgresql://"))
    report = runner.ingest(settings, warehouse, "env:LITELLM_DATABASE_URL", "litellm_db")
    assert report.counts.rows_loaded == 3
    assert _rows(warehouse, "select source_uri from meta.loads") == [("env:LITELLM_DATABASE_URL",)]
    monkeypatch.delenv("LITELLM_DATABASE_URL")
    with pytest.raises(ConfigError, match="LITELLM_DATABASE_URL; it is not set"):
        runner.ingest(settings, warehouse, "env:LITELLM_DATABASE_URL", "litellm_db")


def test_wrong_password_is_one_clear_line_without_the_password(litellm_pg, postgres, cli):
    wrong = "Wr0ng-pa55word"
    url = postgres.url(litellm_pg.name, password=wrong)
    code, out, err = cli("ingest", "env:BAD_LITELLM_URL", "--format", "litellm_db",
                         env={"BAD_LITELLM_URL": url})
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: cannot read LiteLLM spend logs from postgresql+psycopg://")
    assert "password authentication failed" in err and "***" in err
    assert wrong not in err and postgres.password not in err and "Traceback" not in err


def test_a_password_in_a_direct_url_is_neither_printed_nor_stored(litellm_pg, postgres, cli, warehouse):
    litellm_pg.insert(spend_logs(2, START))
    code, out, err = cli("ingest", litellm_pg.url, "--format", "litellm_db")
    assert code == 0 and "env:VARIABLE" in err  # the run works and warns to use env:VARIABLE
    stored = _rows(warehouse, "select source_uri from meta.loads")[0][0]
    assert postgres.password not in out + err + stored


def test_a_database_without_the_table_is_named_in_the_error(postgres, warehouse, settings):
    with pytest.raises(SourceError, match='has no table "LiteLLM_SpendLogs"') as caught:
        runner.ingest(settings, warehouse, postgres.url("postgres"), "litellm_db")
    assert postgres.password not in str(caught.value)


def test_an_older_proxy_schema_without_newer_columns_still_loads(litellm_pg, warehouse, settings):
    litellm_pg.execute('alter table "LiteLLM_SpendLogs" drop column session_id, drop column status, '
                       'drop column agent_id, drop column custom_llm_provider, drop column request_duration_ms')
    rows = [{k: v for k, v in r.items()
             if k not in ("session_id", "status", "agent_id", "custom_llm_provider", "request_duration_ms")}
            for r in spend_logs(4, START)]
    litellm_pg.insert(rows)
    report = runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    assert report.counts.rows_loaded == 4
    # provider from the model's gateway prefix, latency from end - start, status success when not logged
    assert _rows(warehouse, "select distinct provider, status, trace_id is null from raw.inference_requests") == [
        ("aws.bedrock", "success", True)]
    assert _rows(warehouse, "select sum(latency_ms) from raw.inference_requests") == [
        (sum((r["endTime"] - r["startTime"]) / timedelta(milliseconds=1) for r in rows),)]


@pytest.mark.slow
def test_killed_run_leaves_the_warehouse_and_watermark_unchanged_and_the_next_run_completes(
        litellm_pg, warehouse, settings):
    litellm_pg.insert(spend_logs(10, START))
    runner.ingest(settings, warehouse, litellm_pg.url, "litellm_db")
    before, mark = snapshot(warehouse), _watermark(warehouse)
    litellm_pg.insert(spend_logs(30, START + timedelta(hours=2), seed=9))
    env = {"COSTWARDEN_KILL_AT": "ingest:after-batch", "LITELLM_URL": litellm_pg.url}
    killed = run_cli_process(warehouse, "ingest", "env:LITELLM_URL", "--format", "litellm_db", env=env)
    assert killed.returncode == -9, killed.stderr
    assert snapshot(warehouse) == before and _watermark(warehouse) == mark
    finished = run_cli_process(warehouse, "ingest", "env:LITELLM_URL", "--format", "litellm_db",
                               env={"LITELLM_URL": litellm_pg.url})
    assert finished.returncode == 0, finished.stderr
    assert "rows read 30 = loaded 30 + quarantined 0" in finished.stdout
    assert _rows(warehouse, "select count(*) from raw.inference_requests") == [(40,)]
