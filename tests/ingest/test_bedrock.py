"""Bedrock invocation logs: the reference tests every request-log ingestor mirrors."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone

import duckdb
import pytest

from ingest import runner
from tests.factories import bedrock_key, bedrock_record, write_bedrock_logs
from tests.helpers import run_cli_process, snapshot, rows as _rows




def test_folder_loads_every_record_with_tokens_as_logged(tmp_path, warehouse, settings):
    records = write_bedrock_logs(tmp_path / "logs", hours=3, per_hour=25)
    report = runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    assert report.format == "bedrock"
    assert report.counts.rows_read == report.counts.rows_loaded == 75
    totals = _rows(warehouse, "select sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
                              "count(distinct request_id) from raw.inference_requests")[0]
    assert totals == (sum(r["input"]["inputTokenCount"] for r in records),
                      sum(r["output"]["outputTokenCount"] for r in records),
                      sum(r["input"]["cacheReadInputTokenCount"] for r in records), 75)


def test_model_id_is_canonicalised_and_role_kept_but_identity_hashed(tmp_path, warehouse, settings):
    write_bedrock_logs(tmp_path / "logs", hours=1, per_hour=3)
    runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    model, version, role, principal, provider = _rows(
        warehouse, "select model, model_version, principal_role, principal_hash, provider "
                   "from raw.inference_requests limit 1")[0]
    assert model == "anthropic.claude-3-haiku-20240307-v1:0" and version == "v1:0"
    assert role == "arn:aws:iam::111122223333:role/search-app"
    assert len(principal) == 64 and "acme.example" not in principal
    assert provider == "aws.bedrock"


def test_prompt_and_response_text_are_never_stored(tmp_path, warehouse, settings):
    write_bedrock_logs(tmp_path / "logs", hours=1, per_hour=5)
    runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    con = duckdb.connect(warehouse, read_only=True)
    try:
        for schema, table in con.execute("select table_schema, table_name from information_schema.tables "
                                         "where table_type = 'BASE TABLE'").fetchall():
            text = con.execute(f"select cast(list(t) as varchar) from {schema}.{table} t").fetchone()[0] or ""
            assert "PROMPT-SECRET" not in text and "RESPONSE-SECRET" not in text, f"{schema}.{table}"
            assert "user0@acme.example" not in text, f"raw identity stored in {schema}.{table}"
    finally:
        con.close()


def test_reingest_is_a_noop_and_new_hour_loads_only_itself(tmp_path, warehouse, settings):
    write_bedrock_logs(tmp_path / "logs", hours=2, per_hour=10)
    runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    before = snapshot(warehouse)
    again = runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    assert again.counts.files_skipped == 2 and again.counts.rows_read == 0
    after = snapshot(warehouse)
    assert {k: v for k, v in after.items() if k != "meta.loads(ok)"} == \
           {k: v for k, v in before.items() if k != "meta.loads(ok)"}
    write_bedrock_logs(tmp_path / "logs", hours=1, per_hour=4, seed=99,
                       start=datetime(2025, 6, 2, tzinfo=timezone.utc))
    third = runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    assert (third.counts.files_loaded, third.counts.rows_loaded) == (1, 4)


def test_duplicate_request_ids_in_a_new_file_are_skipped_not_doubled(tmp_path, warehouse, settings):
    records = write_bedrock_logs(tmp_path / "logs", hours=1, per_hour=5)
    runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    copy = tmp_path / "logs" / bedrock_key("111122223333", "us-east-1",
                                           datetime(2025, 6, 1, 5, tzinfo=timezone.utc), "redelivered")
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in records[:3]).encode()))
    report = runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    assert report.counts.rows_skipped == 3 and report.counts.rows_loaded == 0
    assert _rows(warehouse, "select count(*) from raw.inference_requests") == [(5,)]


def test_bad_rows_are_quarantined_with_line_and_reason_and_good_rows_load(tmp_path, warehouse, settings):
    when = datetime(2025, 6, 1, 10, tzinfo=timezone.utc)
    good = [json.dumps(bedrock_record(i, when)) for i in range(3)]
    negative = bedrock_record(10, when)
    negative["input"]["inputTokenCount"] = -5
    wrong_type = bedrock_record(11, when)
    wrong_type["output"]["outputTokenCount"] = "many"
    no_model = bedrock_record(12, when)
    del no_model["modelId"]
    bad_time = bedrock_record(13, when, timestamp="yesterday")
    lines = [good[0], '{"requestId": "truncated', json.dumps(negative), good[1], json.dumps(wrong_type),
             json.dumps(no_model), json.dumps(bad_time), good[2]]
    payload = ("\n".join(lines) + "\n").encode() + b"{\"requestId\": \"x\xff\xfe\"}\n"
    path = tmp_path / "logs" / bedrock_key("111122223333", "us-east-1", when, "bad")
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(payload))
    truncated = tmp_path / "logs" / bedrock_key("111122223333", "us-east-1", when, "truncated")
    truncated.write_bytes(gzip.compress(payload)[:40])

    report = runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    c = report.counts
    assert (c.rows_read, c.rows_loaded, c.rows_quarantined) == (9, 3, 6)
    assert c.rows_read == c.rows_loaded + c.rows_quarantined
    assert c.files_failed == 1 and "truncated" in c.failures[0] and "gzip" in c.failures[0]
    reasons = dict(_rows(warehouse, "select line_no, reason || coalesce(' ' || field, '') from meta.quarantine"))
    assert reasons == {2: "line is not valid JSON", 3: "negative token count input_tokens",
                       5: "value is not an integer output_tokens", 6: "missing mandatory field model_id",
                       7: "value is not a timestamp occurred_at",
                       9: "line is not valid UTF-8 (byte 17); re-export the file as UTF-8"}


def test_cli_prints_read_loaded_quarantined_and_names_unreadable_file(tmp_path, cli):
    write_bedrock_logs(tmp_path / "logs", hours=1, per_hour=4)
    (tmp_path / "logs" / "AWSLogs" / "broken.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    code, out, err = cli("ingest", str(tmp_path / "logs"))
    assert code == 1  # a file could not be read: the run says so in its exit status
    assert "rows read 4 = loaded 4 + quarantined 0" in out
    assert "broken.json.gz" in out and "Traceback" not in out + err


def test_loads_from_s3_through_a_real_s3_server(tmp_path, warehouse, s3_bucket, s3_settings):
    records = write_bedrock_logs(tmp_path / "logs", hours=2, per_hour=6)
    s3_bucket.upload_tree(tmp_path / "logs", prefix="bedrock-logs")
    s3_bucket.put("bedrock-logs/AWSLogs/111122223333/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check",
                  b"")
    report = runner.ingest(s3_settings, warehouse, s3_bucket.uri("bedrock-logs"))
    assert report.format == "bedrock" and report.counts.rows_loaded == len(records) == 12
    assert report.counts.files_seen == 2  # the permission-check object is not a log
    again = runner.ingest(s3_settings, warehouse, s3_bucket.uri("bedrock-logs"))
    assert again.counts.files_skipped == 2 and again.counts.rows_loaded == 0
    uris = _rows(warehouse, "select distinct _source_object from raw.inference_requests order by 1")
    assert all(u[0].startswith(f"s3://{s3_bucket.name}/bedrock-logs/AWSLogs/") for u in uris)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["ingest:after-batch", "ingest:before-commit"])
def test_killed_run_leaves_warehouse_unchanged_and_next_run_completes(tmp_path, warehouse, settings, point):
    write_bedrock_logs(tmp_path / "day1", hours=2, per_hour=10)
    runner.ingest(settings, warehouse, str(tmp_path / "day1"))
    before = snapshot(warehouse)
    write_bedrock_logs(tmp_path / "day2", hours=3, per_hour=10, seed=3,
                       start=datetime(2025, 6, 2, tzinfo=timezone.utc))
    killed = run_cli_process(warehouse, "ingest", str(tmp_path / "day2"), env={"COSTWARDEN_KILL_AT": point})
    assert killed.returncode == -9, killed.stderr
    assert snapshot(warehouse) == before
    finished = run_cli_process(warehouse, "ingest", str(tmp_path / "day2"))
    assert finished.returncode == 0, finished.stderr
    assert "rows read 30 = loaded 30 + quarantined 0" in finished.stdout
    assert _rows(warehouse, "select count(*) from raw.inference_requests") == [(50,)]
