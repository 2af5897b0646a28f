"""OpenTelemetry GenAI spans (OTLP/JSON): agent runs, token semantics, privacy, layouts, re-runs and bad spans."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import duckdb

from ingest import runner
from tests.otel_factory import (PROMPT_MARKER, RESPONSE_MARKER, START, agent_run, chat_span, export_request,
                                new_id, span, write_collector_lines, write_document)
from tests.helpers import snapshot, rows as _rows




def _chat_doc(rng: random.Random, **chat_kwargs) -> dict:
    return export_request([chat_span(rng, trace_id=new_id(rng, 128), start=START, **chat_kwargs)])


def test_agent_run_loads_its_three_chat_calls_sharing_the_trace_with_the_agent_inherited(tmp_path, warehouse,
                                                                                        settings):
    spans = agent_run(random.Random(1), agent="trip-planner", **{"app.task_type": "planning"})
    write_document(tmp_path / "traces" / "run.json", export_request(spans, service="trip-app", environment="prod",
                                                                    **{"costwarden.team": "travel"}))
    report = runner.ingest(settings, warehouse, str(tmp_path / "traces"))
    assert report.format == "otel"
    assert (report.counts.rows_read, report.counts.rows_loaded, report.counts.rows_quarantined) == (3, 3, 0)
    root, chats = spans[0], spans[1:4]
    rows = _rows(warehouse, "select request_id, trace_id, parent_span_id, agent, operation, application, environment, "
                            "provider, model, _source_line from raw.inference_requests order by _source_line")
    assert [r[0] for r in rows] == [_attr(c, "gen_ai.response.id") for c in chats]
    assert {r[1:8] for r in rows} == {(root["traceId"], root["spanId"], "trip-planner", "chat", "trip-app", "prod",
                                       "openai")}
    assert {r[8] for r in rows} == {"gpt-4o-2024-08-06"}
    assert _rows(warehouse, "select distinct team, task_type from raw.inference_requests") == [("travel", "planning")]
    assert [r[9] for r in rows] == [2, 3, 4]   # a single document numbers spans by their index in it
    # the agent span's own usage totals (99,999 input tokens) are not priced a second time
    assert _rows(warehouse, "select max(input_tokens) from raw.inference_requests")[0][0] < 4000


def test_llm_spans_take_the_nearest_enclosing_agent_and_keep_their_own_agent_name(tmp_path, warehouse, settings):
    rng = random.Random(2)
    trace = new_id(rng, 128)
    outer = span(trace_id=trace, span_id=new_id(rng, 64), name="invoke_agent planner", start=START,
                 duration_ms=9000, attrs={"gen_ai.operation.name": "invoke_agent"})   # name only in the span name
    inner = span(trace_id=trace, span_id=new_id(rng, 64), parent=outer["spanId"], name="invoke_agent", start=START,
                 duration_ms=5000, attrs={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher"})
    tool = span(trace_id=trace, span_id=new_id(rng, 64), parent=inner["spanId"], name="execute_tool search",
                start=START, duration_ms=50, attrs={"gen_ai.operation.name": "execute_tool"})
    deep = chat_span(rng, trace_id=trace, parent=tool["spanId"], start=START, **{"gen_ai.response.id": "deep"})
    direct = chat_span(rng, trace_id=trace, parent=outer["spanId"], start=START, **{"gen_ai.response.id": "direct"})
    named = chat_span(rng, trace_id=trace, parent=inner["spanId"], start=START,
                      **{"gen_ai.response.id": "named", "gen_ai.agent.name": "critic"})
    orphan = chat_span(rng, trace_id=new_id(rng, 128), start=START, **{"gen_ai.response.id": "orphan"})
    # the collector may split one trace over several lines (batches): inheritance works across them
    write_collector_lines(tmp_path / "traces" / "spans.json",
                          [export_request([outer, inner, tool]), export_request([deep, direct, named, orphan])])
    runner.ingest(settings, warehouse, str(tmp_path / "traces"), fmt="otel")
    agents = dict(_rows(warehouse, "select request_id, agent from raw.inference_requests"))
    assert agents == {"deep": "researcher", "direct": "planner", "named": "critic", "orphan": None}


def test_cached_tokens_are_subtracted_because_otel_input_includes_them(tmp_path, warehouse, settings):
    rng = random.Random(3)
    current = _chat_doc(rng, input_tokens=2000, output_tokens=300, cache_read=1500, cache_write=200,
                        **{"gen_ai.response.id": "current", "gen_ai.usage.reasoning.output_tokens": 120,
                           "gen_ai.server.time_to_first_token": 0.25})
    deprecated = _chat_doc(rng, provider="unused", model="gpt-4o-mini-2024-07-18",
                           **{"gen_ai.response.id": None, "gen_ai.provider.name": None, "gen_ai.system": "az.ai.openai",
                              "gen_ai.usage.input_tokens": None, "gen_ai.usage.output_tokens": None,
                              "gen_ai.usage.prompt_tokens": 900, "gen_ai.usage.completion_tokens": 40,
                              "gen_ai.usage.cache_read.input_tokens": 400})
    write_collector_lines(tmp_path / "traces" / "export.jsonl", [current, deprecated])
    runner.ingest(settings, warehouse, str(tmp_path / "traces"))
    rows = {r[0]: r[1:] for r in _rows(
        warehouse, "select request_id, provider, input_tokens, cache_read_tokens, cache_write_tokens, "
                   "output_tokens, reasoning_tokens, ttft_ms from raw.inference_requests")}
    assert rows["current"] == ("openai", 300, 1500, 200, 300, 120, 250.0)
    span_of_deprecated = deprecated["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    key = f"{span_of_deprecated['traceId']}:{span_of_deprecated['spanId']}"   # no gen_ai.response.id
    assert rows[key] == ("azure.ai.openai", 500, 400, 0, 40, None, None)


def test_message_bodies_events_and_raw_identities_are_never_stored(tmp_path, warehouse, settings):
    write_document(tmp_path / "traces" / "run.json", export_request(agent_run(random.Random(4))))
    runner.ingest(settings, warehouse, str(tmp_path / "traces"))
    con = duckdb.connect(warehouse, read_only=True)
    try:
        assert con.execute("select count(*) from raw.inference_requests").fetchone()[0] == 3
        for schema, table in con.execute("select table_schema, table_name from information_schema.tables "
                                         "where table_type = 'BASE TABLE'").fetchall():
            text = con.execute(f"select cast(list(t) as varchar) from {schema}.{table} t").fetchone()[0] or ""
            assert PROMPT_MARKER not in text and RESPONSE_MARKER not in text, f"{schema}.{table}"
            assert "alice@acme.example" not in text, f"raw identity stored in {schema}.{table}"
        assert con.execute("select count(distinct principal_hash) from raw.inference_requests").fetchone()[0] == 1
    finally:
        con.close()


def test_error_span_without_usage_loads_as_an_error_with_zero_tokens(tmp_path, warehouse, settings):
    rng = random.Random(5)
    failed = chat_span(rng, trace_id=new_id(rng, 128), start=START,
                       **{"gen_ai.response.id": None, "gen_ai.usage.input_tokens": None,
                          "gen_ai.usage.output_tokens": None, "error.type": "RateLimitError",
                          "gen_ai.response.finish_reasons": None})
    failed["status"] = {"code": 2, "message": "429"}
    write_collector_lines(tmp_path / "traces" / "a.json", [export_request([failed]), _chat_doc(rng)])
    report = runner.ingest(settings, warehouse, str(tmp_path / "traces"))
    assert report.counts.rows_loaded == 2
    assert _rows(warehouse, "select status, error_class, input_tokens, output_tokens from raw.inference_requests "
                            "where status = 'error'") == [("error", "RateLimitError", 0, 0)]


def test_collector_lines_gzip_and_documents_load_together_with_line_numbers(tmp_path, warehouse, settings):
    rng = random.Random(6)
    docs = [_chat_doc(rng) for _ in range(3)]
    write_collector_lines(tmp_path / "traces" / "collector" / "traces.json.gz", docs, compress=True)
    write_document(tmp_path / "traces" / "sdk" / "batch.json.gz", export_request(agent_run(rng)), compress=True)
    report = runner.ingest(settings, warehouse, str(tmp_path / "traces"))
    assert (report.counts.files_loaded, report.counts.rows_loaded) == (2, 6)
    lines = _rows(warehouse, "select regexp_extract(_source_object, '/(collector|sdk)/', 1), list(_source_line "
                             "order by _source_line) from raw.inference_requests group by 1 order by 1")
    assert lines == [("collector", [1, 2, 3]), ("sdk", [2, 3, 4])]


def test_reingest_is_a_noop_and_a_new_file_loads_only_itself(tmp_path, warehouse, settings):
    rng = random.Random(7)
    write_collector_lines(tmp_path / "traces" / "1.json", [export_request(agent_run(rng)) for _ in range(2)])
    runner.ingest(settings, warehouse, str(tmp_path / "traces"))
    before = snapshot(warehouse)
    again = runner.ingest(settings, warehouse, str(tmp_path / "traces"))
    assert again.counts.files_skipped == 1 and again.counts.rows_read == 0
    assert {k: v for k, v in snapshot(warehouse).items() if k != "meta.loads(ok)"} == \
           {k: v for k, v in before.items() if k != "meta.loads(ok)"}
    write_collector_lines(tmp_path / "traces" / "2.json", [export_request(agent_run(rng, chats=2))])
    third = runner.ingest(settings, warehouse, str(tmp_path / "traces"))
    assert (third.counts.files_loaded, third.counts.rows_loaded) == (1, 2)


def test_bad_spans_and_lines_are_quarantined_with_line_and_reason_and_the_rest_loads(tmp_path, warehouse,
                                                                                    settings):
    rng = random.Random(8)
    negative = _chat_doc(rng, input_tokens=-5)
    no_model = _chat_doc(rng, **{"gen_ai.response.model": None, "gen_ai.request.model": None})
    bad_time = _chat_doc(rng)
    bad_time["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["startTimeUnixNano"] = "yesterday"
    lines = [_chat_doc(rng), negative, no_model, _chat_doc(rng), bad_time]
    write_collector_lines(tmp_path / "traces" / "collector.json", lines,
                          raw_lines={1: b'{"resourceSpans": [{"scopeSpans": [', 4: b'{"resourceSpans": "\xff\xfe"}'})
    document = export_request(agent_run(rng))
    del document["resourceSpans"][0]["scopeSpans"][0]["spans"][2]["attributes"][3]   # gen_ai.response.model
    del document["resourceSpans"][0]["scopeSpans"][0]["spans"][2]["attributes"][2]   # gen_ai.request.model
    write_document(tmp_path / "traces" / "run.json", document)
    (tmp_path / "traces" / "notes.json").write_text(json.dumps({"hello": "world"}))

    report = runner.ingest(settings, warehouse, str(tmp_path / "traces"), fmt="otel")
    c = report.counts
    assert (c.rows_read, c.rows_loaded, c.rows_quarantined) == (7 + 3, 2 + 2, 5 + 1)
    assert c.files_failed == 1 and "notes.json" in c.failures[0] and "resourceSpans" in c.failures[0]
    reasons = dict(_rows(warehouse, "select regexp_extract(object_uri, '[a-z]+\\.json') || ':' || line_no, "
                                    "reason || coalesce(' ' || field, '') from meta.quarantine"))
    assert reasons == {"collector.json:2": "line is not valid JSON",
                       "collector.json:3": "negative token count input_tokens",
                       "collector.json:4": "missing mandatory field model_id",
                       "collector.json:5": "line is not valid UTF-8 (byte 20); re-export the file as UTF-8",
                       "collector.json:7": "value is not a timestamp occurred_at",
                       "run.json:3": "missing mandatory field model_id"}


def test_detects_and_loads_from_s3_through_a_real_s3_server(tmp_path, warehouse, s3_bucket, s3_settings):
    rng = random.Random(9)
    write_collector_lines(tmp_path / "traces" / "2025" / "06" / "01" / "traces.json.gz",
                          [export_request(agent_run(rng, start=START + timedelta(minutes=i))) for i in range(2)],
                          compress=True)
    s3_bucket.upload_tree(tmp_path / "traces", prefix="otel")
    report = runner.ingest(s3_settings, warehouse, s3_bucket.uri("otel"))
    assert report.format == "otel" and report.counts.rows_loaded == 6
    again = runner.ingest(s3_settings, warehouse, s3_bucket.uri("otel"))
    assert again.counts.files_skipped == 1 and again.counts.rows_loaded == 0
    assert _rows(warehouse, "select distinct _source_object from raw.inference_requests") == \
           [(f"s3://{s3_bucket.name}/otel/2025/06/01/traces.json.gz",)]


def _attr(span_record: dict, key: str):
    for item in span_record["attributes"]:
        if item["key"] == key:
            return next(iter(item["value"].values()))
    return None
