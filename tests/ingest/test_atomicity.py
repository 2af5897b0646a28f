"""Every request-log format survives a real process kill mid-run: the warehouse is as before, the next run completes.

(Bedrock, LiteLLM's database, CUR 2.0, legacy CUR and FOCUS have their own kill tests next to their other tests;
this file covers the formats that share the JSON-lines and tabular drivers: OpenTelemetry, generic, LiteLLM export.)
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from ingest import runner
from tests.helpers import run_cli_process, snapshot
from tests.ingest.test_generic import gateway_log, write_csv, write_jsonl
from tests.otel_factory import agent_run, export_request, write_collector_lines

DAY1 = datetime(2025, 6, 1, tzinfo=timezone.utc)
DAY2 = DAY1 + timedelta(days=1)


def _otel(folder, day, seed):
    rng = random.Random(seed)
    docs = [export_request(agent_run(rng, start=day + timedelta(minutes=7 * i))) for i in range(4)]
    write_collector_lines(folder / f"traces-{day:%Y%m%d}.jsonl", docs)
    return 12  # 4 runs x 3 chat spans


def _generic_csv(folder, day, seed):
    rows = [{"id": r["req"], "ts": r["when"], "model": r["llm"], "prompt_tokens": r["tin"],
             "completion_tokens": r["tout"]} for r in gateway_log(15, seed=seed, start=day)]
    write_csv(folder / f"gateway-{day:%Y%m%d}.csv.gz", rows, compress=True)
    return 15


def _litellm_jsonl(folder, day, seed):
    rows = [{"request_id": f"ll-{seed}-{i}", "call_type": "acompletion", "api_key": f"hashed{i % 3}",
             "spend": 0.00042 * (i + 1), "total_tokens": 300 + i, "prompt_tokens": 200 + i, "completion_tokens": 100,
             "startTime": (day + timedelta(minutes=i)).isoformat(), "endTime": (day + timedelta(minutes=i,
             seconds=2)).isoformat(), "model": "gpt-4o-mini", "model_group": "gpt-4o-mini",
             "custom_llm_provider": "openai", "metadata": {}, "request_tags": [], "team_id": "search",
             "status": "success", "messages": [{"content": "secret"}], "response": {}} for i in range(10)]
    write_jsonl(folder / f"spend-{day:%Y%m%d}.jsonl", rows)
    return 10


WRITERS = {"otel": _otel, "generic": _generic_csv, "litellm": _litellm_jsonl}


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_kill_mid_run_leaves_no_partial_load_and_next_run_completes(tmp_path, warehouse, settings, fmt):
    write = WRITERS[fmt]
    first = write(tmp_path / "day1", DAY1, seed=1)
    runner.ingest(settings, warehouse, str(tmp_path / "day1"), fmt)
    before = snapshot(warehouse)
    second = write(tmp_path / "day2", DAY2, seed=2)
    killed = run_cli_process(warehouse, "ingest", str(tmp_path / "day2"), "--format", fmt,
                             env={"COSTWARDEN_KILL_AT": "ingest:after-batch"})
    assert killed.returncode == -9, killed.stderr
    assert snapshot(warehouse) == before
    finished = run_cli_process(warehouse, "ingest", str(tmp_path / "day2"), "--format", fmt)
    assert finished.returncode == 0, finished.stderr
    assert f"rows read {second} = loaded {second} + quarantined 0" in finished.stdout
    con = duckdb.connect(warehouse, read_only=True)
    try:
        assert con.execute("select count(*) from raw.inference_requests").fetchone()[0] == first + second
    finally:
        con.close()
    assert json.dumps(snapshot(warehouse)) != json.dumps(before)
