"""Generic request logs (CSV, JSON lines, Parquet) read through a column map from the config or default aliases."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from costwarden.config import load_settings
from costwarden.errors import ConfigError
from ingest import runner
from tests.helpers import snapshot, rows as _rows

START = datetime(2025, 6, 1, 9, tzinfo=timezone.utc)
PROMPT, RESPONSE = "PROMPT-SECRET: draft the layoff memo", "RESPONSE-SECRET: Dear team"




def gateway_log(n: int, *, seed: int = 1, start: datetime = START) -> list[dict]:
    """A self-hosted gateway's own column names (what a column map is for)."""
    rng = random.Random(seed)
    return [{"req": f"gw-{seed}-{i:05d}", "when": (start + timedelta(seconds=37 * i)).isoformat(),
             "llm": rng.choice(["gpt-4o-2024-08-06", "gpt-4o-mini"]), "tin": rng.randint(500, 3000),
             "tout": rng.randint(10, 400), "tcache": rng.choice([0, 0, 256, 384]), "who": f"user{i % 3}@acme.example",
             "key": f"sk-live-{seed}{i % 2}", "squad": "search", "proj": "atlas", "prompt_text": PROMPT,
             "completion_text": RESPONSE} for i in range(n)]


GATEWAY_MAP = ('{ request_id = "req", occurred_at = "when", model_id = "llm", input_tokens = "tin", '
               'output_tokens = "tout", cache_read_tokens = "tcache", principal = "who", api_key = "key", '
               'team = "squad", "metadata.project" = "proj" }')


def write_csv(path: Path, rows: list[dict], *, compress: bool = False, extra_lines: list[str] = ()) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = (out.getvalue() + "".join(line + "\n" for line in extra_lines)).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_jsonl(path: Path, rows: list, *, compress: bool = False) -> Path:
    data = b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def configured(tmp_path: Path, sources: str, environ: dict | None = None):
    path = tmp_path / "costwarden.toml"
    path.write_text(sources)
    return load_settings(path, environ=environ or {})


def test_csv_and_csv_gz_load_through_the_configured_column_map(tmp_path, warehouse):
    rows = gateway_log(6)
    write_csv(tmp_path / "logs" / "day1.csv", rows[:4])
    write_csv(tmp_path / "logs" / "day2.csv.gz", rows[4:], compress=True)
    settings = configured(tmp_path, f'[[sources]]\nname = "gateway"\nuri = "{tmp_path / "logs"}"\n'
                                    f'format = "generic"\nprovider = "openai"\ncolumn_map = {GATEWAY_MAP}\n')
    [report] = runner.ingest_configured(settings, warehouse)
    assert (report.format, report.counts.rows_read, report.counts.rows_loaded) == ("generic", 6, 6)
    loaded = {r[0]: r[1:] for r in _rows(
        warehouse, "select request_id, provider, model, input_tokens, cache_read_tokens, output_tokens, team, "
                   "metadata['project'], occurred_at from raw.inference_requests")}
    for row in rows:
        # a gateway speaking OpenAI's semantics counts cached tokens inside its input count
        assert loaded[row["req"]] == ("openai", row["llm"], row["tin"] - row["tcache"], row["tcache"], row["tout"],
                                      "search", "atlas", datetime.fromisoformat(row["when"]).replace(tzinfo=None))
    assert _rows(warehouse, "select count(distinct principal_hash), count(distinct api_key_hash), "
                            "min(length(principal_hash)) from raw.inference_requests") == [(3, 2, 64)]
    assert _rows(warehouse, "select list(_source_line order by _source_line) from raw.inference_requests "
                            "where _source_object like '%day1.csv'") == [([2, 3, 4, 5],)]   # header is line 1


def test_text_columns_and_raw_identities_are_never_stored(tmp_path, warehouse):
    rows = gateway_log(3)
    for row in rows:
        row["request_tags"] = json.dumps({"feature": "memo", "prompt": PROMPT, "note": "x" * 300})
    write_jsonl(tmp_path / "logs" / "calls.jsonl", rows)
    settings = configured(tmp_path, f'[[sources]]\nname = "gateway"\nuri = "{tmp_path / "logs"}"\n'
                                    f'format = "generic"\ncolumn_map = {GATEWAY_MAP}\n')
    runner.ingest_configured(settings, warehouse)
    con = duckdb.connect(warehouse, read_only=True)
    try:
        assert con.execute("select distinct metadata from raw.inference_requests").fetchall() == \
               [({"feature": "memo", "project": "atlas"},)]   # text-like keys and long values are dropped
        for schema, table in con.execute("select table_schema, table_name from information_schema.tables "
                                         "where table_type = 'BASE TABLE'").fetchall():
            text = con.execute(f"select cast(list(t) as varchar) from {schema}.{table} t").fetchone()[0] or ""
            assert "PROMPT-SECRET" not in text and "RESPONSE-SECRET" not in text, f"{schema}.{table}"
            assert "acme.example" not in text and "sk-live" not in text, f"raw identity in {schema}.{table}"
    finally:
        con.close()


def test_jsonl_gz_with_default_aliases_and_epoch_times_needs_no_config(tmp_path, warehouse, settings):
    calls = [{"id": f"chatcmpl-{i}", "created": 1748768400 + i, "model": "openai/gpt-4o-mini", "provider": "openai",
              "usage": {"ignored": True}, "prompt_tokens": 1000, "completion_tokens": 50, "cached_tokens": 200,
              "user": "bob", "status": 200 if i else 429, "latency_ms": 812.5} for i in range(3)]
    write_jsonl(tmp_path / "logs" / "2025-06-01.jsonl.gz", calls, compress=True)
    report = runner.ingest(settings, warehouse, str(tmp_path / "logs"), fmt="generic")
    assert report.counts.rows_loaded == 3
    assert _rows(warehouse, "select request_id, occurred_at, model, input_tokens, cache_read_tokens, status, "
                            "latency_ms from raw.inference_requests order by 1") == [
        (f"chatcmpl-{i}", datetime(2025, 6, 1, 9, 0, i), "gpt-4o-mini", 800, 200, "success" if i else "error", 812.5)
        for i in range(3)]


def test_a_source_can_declare_that_its_input_excludes_cached_tokens(tmp_path, warehouse):
    rows = [{"request_id": "a1", "timestamp": "2025-06-01T10:00:00Z", "model": "claude-3-5-haiku-20241022",
             "input_tokens": 120, "output_tokens": 30, "cache_read_tokens": 2048, "cache_write_tokens": 512}]
    write_jsonl(tmp_path / "anthropic" / "calls.jsonl", rows)
    settings = configured(tmp_path, f'[[sources]]\nname = "anthropic-gw"\nuri = "{tmp_path / "anthropic"}"\n'
                                    'format = "generic"\nprovider = "anthropic"\n'
                                    'input_includes_cache = false\n')
    runner.ingest_configured(settings, warehouse)
    assert _rows(warehouse, "select provider, input_tokens, cache_read_tokens, cache_write_tokens "
                            "from raw.inference_requests") == [("anthropic", 120, 2048, 512)]


def test_parquet_with_typed_columns_loads_with_exact_cost(tmp_path, warehouse):
    table = pa.table({
        "req": ["p1", "p2"], "when": pa.array([START, START + timedelta(minutes=1)], pa.timestamp("us", tz="UTC")),
        "llm": ["gpt-4o", "gpt-4o"], "tin": pa.array([100, 200], pa.int64()), "tout": pa.array([10, 20], pa.int32()),
        "tcache": pa.array([0, 50], pa.int64()), "who": ["u1", "u2"], "key": ["k1", "k1"], "squad": ["ads", "ads"],
        "proj": ["p", "p"], "cost": [0.00125, 0.0031], "prompt_text": [PROMPT, PROMPT]})
    (tmp_path / "logs").mkdir()
    pq.write_table(table, tmp_path / "logs" / "part-0.parquet")
    column_map = GATEWAY_MAP.replace(" }", ', reported_cost = "cost" }')
    settings = configured(tmp_path, f'[[sources]]\nname = "warehouse-export"\nuri = "{tmp_path / "logs"}"\n'
                                    f'format = "generic"\nprovider = "openai"\ncolumn_map = {column_map}\n')
    [report] = runner.ingest_configured(settings, warehouse)
    assert report.counts.rows_loaded == 2
    from decimal import Decimal
    assert _rows(warehouse, "select request_id, occurred_at, input_tokens, output_tokens, reported_cost, "
                            "_source_line from raw.inference_requests order by 1") == [
        ("p1", datetime(2025, 6, 1, 9), 100, 10, Decimal("0.0012500000"), 1),
        ("p2", datetime(2025, 6, 1, 9, 1), 150, 20, Decimal("0.0031000000"), 2)]


def test_a_mapped_column_missing_from_a_file_fails_that_file_with_the_fix(tmp_path, warehouse):
    rows = gateway_log(4)
    write_csv(tmp_path / "logs" / "good.csv", rows[:2])
    write_csv(tmp_path / "logs" / "old-export.csv", [{k: v for k, v in r.items() if k != "tin"} for r in rows[2:]])
    settings = configured(tmp_path, f'[[sources]]\nname = "gateway"\nuri = "{tmp_path / "logs"}"\n'
                                    f'format = "generic"\ncolumn_map = {GATEWAY_MAP}\n')
    [report] = runner.ingest_configured(settings, warehouse)
    assert (report.counts.files_loaded, report.counts.files_failed, report.counts.rows_loaded) == (1, 1, 2)
    [message] = report.counts.failures
    assert "old-export.csv" in message and "'tin'" in message
    assert 'set column_map.input_tokens in [[sources]] name="gateway"' in message


def test_without_a_config_a_file_lacking_token_columns_names_what_to_set(tmp_path, warehouse, settings):
    write_jsonl(tmp_path / "logs" / "calls.jsonl", [{"id": "x", "ts": "2025-06-01T00:00:00Z", "model": "gpt-4o",
                                                      "tok_in": 5, "tok_out": 1}])
    report = runner.ingest(settings, warehouse, str(tmp_path / "logs"), fmt="generic")
    [message] = report.counts.failures
    assert "calls.jsonl has no column for input_tokens" in message and "column_map.input_tokens" in message


def test_a_column_map_key_that_is_not_a_field_is_a_config_error(tmp_path, warehouse):
    write_jsonl(tmp_path / "logs" / "calls.jsonl", [{"id": "x"}])
    settings = configured(tmp_path, f'[[sources]]\nname = "gw"\nuri = "{tmp_path / "logs"}"\nformat = "generic"\n'
                                    'column_map = { input_token = "tin" }\n')
    with pytest.raises(ConfigError, match="column_map key 'input_token' is not a request field"):
        runner.ingest_configured(settings, warehouse)


def test_bad_rows_are_quarantined_with_line_and_reason_and_good_rows_load(tmp_path, warehouse):
    rows = gateway_log(5)
    rows[1]["tin"] = -7
    rows[2]["when"] = "last tuesday"
    rows[3]["llm"] = ""
    write_csv(tmp_path / "logs" / "a.csv", rows, extra_lines=["gw-x,2025-06-01T09:00:00,gpt-4o,1"])
    good = {k: v for k, v in gateway_log(1, seed=2)[0].items()}
    write_jsonl(tmp_path / "logs" / "b.jsonl", [good, b'{"req": "trunc', b"[1, 2]",
                                                 b'{"req": "\xff\xfe", "tin": 1}'])
    write_jsonl(tmp_path / "logs" / "c.jsonl", [b"not json at all"])   # every line bad: quarantined, not failed
    settings = configured(tmp_path, f'[[sources]]\nname = "gateway"\nuri = "{tmp_path / "logs"}"\n'
                                    f'format = "generic"\ncolumn_map = {GATEWAY_MAP}\n')
    [report] = runner.ingest_configured(settings, warehouse)
    c = report.counts
    assert (c.rows_read, c.rows_loaded, c.rows_quarantined, c.files_failed) == (11, 3, 8, 0)
    reasons = dict(_rows(warehouse, "select regexp_extract(object_uri, '[a-z]\\.[a-z]+$') || ':' || line_no, "
                                    "reason || coalesce(' ' || field, '') from meta.quarantine"))
    assert reasons["a.csv:3"] == "negative token count input_tokens"
    assert reasons["a.csv:4"] == "value is not a timestamp occurred_at"
    assert reasons["a.csv:5"] == "missing mandatory field model_id"
    assert reasons["a.csv:7"].startswith("row has fewer columns than the header")
    assert (reasons["b.jsonl:2"], reasons["b.jsonl:3"]) == ("line is not valid JSON", "line is not a JSON object")
    assert reasons["b.jsonl:4"].startswith("line is not valid UTF-8")
    assert reasons["c.jsonl:1"] == "line is not valid JSON" and len(reasons) == 8


def test_reingest_is_a_noop_and_a_request_repeated_in_two_files_loads_once(tmp_path, warehouse):
    rows = gateway_log(6)
    write_csv(tmp_path / "logs" / "a.csv", rows[:4])
    write_jsonl(tmp_path / "logs" / "b.jsonl", rows[3:])     # rows[3] is in both files
    settings = configured(tmp_path, f'[[sources]]\nname = "gateway"\nuri = "{tmp_path / "logs"}"\n'
                                    f'format = "generic"\ncolumn_map = {GATEWAY_MAP}\n')
    [first] = runner.ingest_configured(settings, warehouse)
    assert (first.counts.rows_loaded, first.counts.rows_skipped) == (6, 1)
    before = snapshot(warehouse)
    [again] = runner.ingest_configured(settings, warehouse)
    assert again.counts.files_skipped == 2 and again.counts.rows_read == 0
    assert {k: v for k, v in snapshot(warehouse).items() if k != "meta.loads(ok)"} == \
           {k: v for k, v in before.items() if k != "meta.loads(ok)"}


def test_loads_from_s3_through_a_real_s3_server(tmp_path, warehouse, s3_bucket, s3_endpoint):
    write_csv(tmp_path / "logs" / "2025" / "06" / "01.csv.gz", gateway_log(5), compress=True)
    s3_bucket.upload_tree(tmp_path / "logs", prefix="gateway")
    settings = configured(tmp_path, f'[[sources]]\nname = "gateway"\nuri = "{s3_bucket.uri("gateway")}"\n'
                                    f'format = "generic"\ncolumn_map = {GATEWAY_MAP}\n',
                          environ={"COSTWARDEN_S3__ENDPOINT_URL": s3_endpoint})
    [report] = runner.ingest_configured(settings, warehouse)
    assert report.counts.rows_loaded == 5
    [again] = runner.ingest_configured(settings, warehouse)
    assert again.counts.files_skipped == 1 and again.counts.rows_loaded == 0
    assert _rows(warehouse, "select distinct _source_object from raw.inference_requests") == \
           [(f"s3://{s3_bucket.name}/gateway/2025/06/01.csv.gz",)]


def test_detection_picks_generic_only_when_no_specific_format_claims_the_files(tmp_path, warehouse, settings):
    write_jsonl(tmp_path / "logs" / "calls.jsonl", [{"id": "g1", "timestamp": "2025-06-01T00:00:00Z",
                                                      "model": "gpt-4o", "input_tokens": 3, "output_tokens": 1}])
    report = runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    assert report.format == "generic" and report.counts.rows_loaded == 1
    from ingest.generic import GenericRequestLogs
    from ingest.otel import OtelGenAiSpans
    otlp = lambda: b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"gen_ai.operation.name"'
    objects = runner.list_objects(str(tmp_path / "logs"), settings.s3)
    assert OtelGenAiSpans.detect(objects, otlp) > GenericRequestLogs.detect(objects, otlp) == 10
