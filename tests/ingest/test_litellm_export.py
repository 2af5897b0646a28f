"""LiteLLM spend logs exported as a JSON array, JSON lines or CSV (made by the real PostgreSQL server from the
proxy's table, as psql / DB tools export it) load the same rows as reading the database itself. Tests that need
the PostgreSQL server are marked slow."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import duckdb
import pytest

from costwarden.config import SourceSettings
from ingest import runner
from tests.ingest.conftest import SECRETS, api_json, spend_log, spend_logs, uncached_input
from tests.helpers import rows as _rows

START = datetime(2025, 6, 1, 9, 0)
EXPORTS = {"json_array": ("spend_logs.json", "export_json_array"),
           "json_lines": ("spend_logs.jsonl", "export_json_lines"),
           "csv": ("spend_logs.csv", "export_csv")}
# Every mapped column except lineage, compared between loads of the same rows.
COMPARED = ("request_id, occurred_at, trace_id, agent, application, operation, principal_hash, api_key_hash, team, "
            "environment, region, provider, model_id, model, model_version, input_tokens, output_tokens, "
            "cache_read_tokens, cache_write_tokens, reasoning_tokens, latency_ms, ttft_ms, status, error_class, "
            "reported_cost, metadata")




def _mapped(warehouse: str):
    return _rows(warehouse, f"select {COMPARED} from raw.inference_requests order by request_id")


@pytest.fixture
def exported(litellm_pg, tmp_path, settings):
    """12 rows (one failed call included) in the database, loaded from it once as the reference."""
    rows = spend_logs(11, START)
    rows.append(spend_log(99, START + timedelta(minutes=30), status="failure", spend=0.0, completion_tokens=0,
                          metadata={"status": "failure", "error_information": {
                              "error_class": "RateLimitError", "error_message": "PROMPT-SECRET echoed back"}}))
    litellm_pg.insert(rows)
    reference = str(tmp_path / "from_db.duckdb")
    runner.ingest(settings, reference, litellm_pg.url, "litellm_db")
    return rows, _mapped(reference)


@pytest.mark.slow
@pytest.mark.parametrize("kind", EXPORTS)
def test_each_export_format_loads_exactly_what_the_database_reader_loads(
        kind, exported, litellm_pg, tmp_path, warehouse, settings):
    rows, from_db = exported
    name, export = EXPORTS[kind]
    getattr(litellm_pg, export)(tmp_path / "export" / name)
    report = runner.ingest(settings, warehouse, str(tmp_path / "export"))
    assert report.format == "litellm"                       # detected from the content
    assert (report.counts.rows_read, report.counts.rows_loaded, report.counts.rows_quarantined) == (12, 12, 0)
    assert _mapped(warehouse) == from_db
    failed = _rows(warehouse, "select status, error_class from raw.inference_requests where status = 'error'")
    assert failed == [("error", "RateLimitError")]
    assert _rows(warehouse, "select sum(input_tokens) from raw.inference_requests where status = 'success'") == [
        (sum(uncached_input(r) for r in rows[:11]),)]
    again = runner.ingest(settings, warehouse, str(tmp_path / "export"))
    assert (again.counts.files_skipped, again.counts.rows_read) == (1, 0)


@pytest.mark.slow
def test_all_three_exports_from_s3_load_each_request_once(exported, litellm_pg, tmp_path, warehouse, s3_bucket,
                                                          s3_settings):
    _, from_db = exported
    for name, export in EXPORTS.values():
        getattr(litellm_pg, export)(tmp_path / "export" / name)
    s3_bucket.upload_tree(tmp_path / "export", prefix="litellm/spend-logs")
    report = runner.ingest(s3_settings, warehouse, s3_bucket.uri("litellm/spend-logs"))
    c = report.counts
    assert report.format == "litellm" and c.files_loaded == 3
    assert (c.rows_loaded, c.rows_skipped, c.rows_quarantined) == (12, 24, 0)  # the same 12 rows, three times
    assert _mapped(warehouse) == from_db
    assert _rows(warehouse, "select count(*) from raw.inference_requests where _source_object like 's3://%'") == [
        (12,)]
    again = runner.ingest(s3_settings, warehouse, s3_bucket.uri("litellm/spend-logs"))
    assert (again.counts.files_skipped, again.counts.rows_loaded) == (3, 0)


@pytest.mark.slow
def test_proxy_api_json_with_utc_offsets_loads_with_the_same_instants(exported, tmp_path, warehouse, settings):
    rows, from_db = exported
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "spend_logs_page1.json").write_text(api_json(rows))
    report = runner.ingest(settings, warehouse, str(tmp_path / "api"), "litellm")
    assert report.counts.rows_loaded == 12
    assert _mapped(warehouse) == from_db


@pytest.mark.slow
def test_bodies_in_an_export_never_reach_the_warehouse(exported, litellm_pg, tmp_path, warehouse, settings):
    litellm_pg.export_json_lines(tmp_path / "export" / "spend_logs.jsonl")
    assert "PROMPT-SECRET" in (tmp_path / "export" / "spend_logs.jsonl").read_text()
    runner.ingest(settings, warehouse, str(tmp_path / "export"))
    con = duckdb.connect(warehouse, read_only=True)
    try:
        for schema, table in con.execute("select table_schema, table_name from information_schema.tables "
                                         "where table_type = 'BASE TABLE'").fetchall():
            text = con.execute(f"select cast(list(t) as varchar) from {schema}.{table} t").fetchone()[0] or ""
            for secret in SECRETS:
                assert secret not in text, f"{secret} stored in {schema}.{table}"
    finally:
        con.close()


@pytest.mark.slow
def test_bad_csv_rows_are_quarantined_with_their_line_and_the_rest_load(litellm_pg, tmp_path, warehouse, settings):
    litellm_pg.insert(spend_logs(4, START))
    path = tmp_path / "export" / "spend_logs.csv"
    litellm_pg.export_csv(path)
    header, *lines = path.read_text().splitlines()
    columns = header.split(",")

    def with_value(line: str, column: str, value: str) -> str:
        import csv
        import io
        cells = next(csv.reader([line]))
        cells[columns.index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(cells)
        return out.getvalue()

    bad = [with_value(lines[0].replace("chatcmpl-", "bad1-"), "prompt_tokens", "many"),
           with_value(lines[1].replace("chatcmpl-", "bad2-"), "model", ""),
           with_value(lines[2].replace("chatcmpl-", "bad3-"), "startTime", "yesterday"),
           "only,three,cells"]
    path.write_text("\n".join([header, *lines[:2], *bad, *lines[2:]]) + "\n")
    report = runner.ingest(settings, warehouse, str(tmp_path / "export"), "litellm")
    c = report.counts
    assert (c.rows_read, c.rows_loaded, c.rows_quarantined) == (8, 4, 4)
    reasons = {line: (reason, field) for line, reason, field in _rows(
        warehouse, "select line_no, reason, field from meta.quarantine")}
    assert reasons == {4: ("value is not an integer", "input_tokens"), 5: ("missing mandatory field", "model_id"),
                       6: ("value is not a timestamp", "occurred_at"),
                       7: ("row has fewer columns than the header", reasons[7][1])}


def test_a_broken_json_array_is_named_and_the_other_files_load(tmp_path, warehouse, settings):
    rows = spend_logs(3, START)
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "good.json").write_text(api_json(rows))
    (tmp_path / "export" / "truncated.json").write_text(api_json(rows)[:-40])
    report = runner.ingest(settings, warehouse, str(tmp_path / "export"), "litellm")
    assert report.counts.rows_loaded == 3 and report.counts.files_failed == 1
    assert "truncated.json is not a valid JSON array" in report.counts.failures[0]


def test_detection_prefers_litellm_for_a_spend_log_export(tmp_path, warehouse, settings):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "export.jsonl").write_text("\n".join(json.dumps(json.loads(api_json([r]))[0])
                                                           for r in spend_logs(2, START)))
    assert runner.ingest(settings, warehouse, str(tmp_path / "x")).format == "litellm"


def test_a_source_declaring_uncached_input_keeps_prompt_tokens_as_is(tmp_path, warehouse, settings):
    rows = spend_logs(3, START)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "spend.json").write_text(api_json(rows))
    source = SourceSettings(name="gateway", uri=str(tmp_path / "x"), format="litellm", input_includes_cache=False)
    runner.ingest(settings, warehouse, source.uri, source=source)
    assert _rows(warehouse, "select sum(input_tokens), sum(cache_read_tokens) from raw.inference_requests") == [
        (sum(r["prompt_tokens"] for r in rows),
         sum(r["metadata"]["usage_object"]["cache_read_input_tokens"] for r in rows))]
