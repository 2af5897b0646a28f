"""`costwarden demo`: a tiny demo company runs end to end through the real ingest paths, its bill matches its traffic
and the warehouse, the same seed gives the same bytes, and the labelled incidents are really in the traffic."""

from __future__ import annotations

import contextlib
import glob
import gzip
import hashlib
import io
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pytest

from costwarden.cli import main as cli_main
from costwarden.demo.company import AGENT_INDEX, MODEL_KEYS, MODELS
from costwarden.demo.curfile import CUR_ROOT
from costwarden.demo.generate import generate
from costwarden.demo.incidents import Window, incidents
from costwarden.demo.logs import SYNTHETIC_PROMPT, SYNTHETIC_RESPONSE
from costwarden.demo.traffic import simulate
from tests.factories import write_bedrock_logs

TINY = ("--days", "10", "--scale", "0.02", "--seed", "7", "--no-dashboard")


def _query(warehouse: str, sql: str, params=None):
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _parquet(folder: Path, sql: str):
    """Query the CUR files as written (`cur` = every data file of the export)."""
    files = sorted(glob.glob(str(folder / CUR_ROOT / "data" / "BILLING_PERIOD=*" / "*.parquet")))
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.read_parquet(files).create_view("cur")
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory):
    """One tiny demo in a local folder, run through the real CLI in-process (module-wide: it takes seconds)."""
    root = tmp_path_factory.mktemp("demo")
    warehouse, folder = str(root / "acme.duckdb"), root / "company"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(["--warehouse", warehouse, "demo", "--local", str(folder), *TINY])
    return code, out.getvalue(), warehouse, folder


def test_tiny_demo_loads_every_source_and_reports_the_dashboard_url(tiny_demo):
    code, out, warehouse, folder = tiny_demo
    assert code == 0, out
    assert "dashboard: http://localhost:8501" in out
    assert (folder / "costwarden.demo.toml").is_file() and (folder / "demo-incidents.json").is_file()
    loads = dict(_query(warehouse, "select source_name, sum(rows_loaded) from meta.loads where status = 'ok' "
                                   "group by 1"))
    assert set(loads) == {"demo-bedrock-logs", "demo-gateway-litellm", "demo-cur2"}
    assert all(rows > 0 for rows in loads.values())
    assert _query(warehouse, "select count(*) from meta.quarantine")[0][0] == 0


def test_every_bedrock_record_written_is_loaded_once(tiny_demo):
    _, _, warehouse, folder = tiny_demo
    records = [json.loads(line) for path in (folder / "bedrock-logs").rglob("*.json.gz")
               for line in gzip.decompress(path.read_bytes()).splitlines()]
    loaded = _query(warehouse, "select count(*), count(distinct request_id), sum(input_tokens), "
                               "sum(cache_read_tokens) from raw.inference_requests where source_format = 'bedrock'")
    assert loaded[0] == (len(records), len(records), sum(r["input"]["inputTokenCount"] for r in records),
                         sum(r["input"]["cacheReadInputTokenCount"] for r in records))
    assert {r["identity"]["arn"].split("/")[1] for r in records} >= {"acme-search-genai", "acme-devtools-genai"}
    assert any("quality_score" in r["requestMetadata"] for r in records)


def test_cur_files_total_equals_the_warehouse_per_billing_period_to_the_cent(tiny_demo):
    _, _, warehouse, folder = tiny_demo
    written = dict(_parquet(folder, "select cast(bill_billing_period_start_date as date), "
                                    "sum(line_item_unblended_cost) from cur group by 1"))
    loaded = dict(_query(warehouse, "select billing_period, sum(billed_cost) from raw.cost_lines "
                                    "group by billing_period"))
    assert written and set(written) == set(loaded)
    for period, total in written.items():
        assert round(Decimal(total), 2) == round(loaded[period], 2), period


def test_the_bill_has_the_tokens_the_logs_have_at_the_price_book_price(tiny_demo):
    _, _, warehouse, folder = tiny_demo
    billed = dict(((account, usage_type), int(amount)) for account, usage_type, amount in _parquet(
        folder, "select line_item_usage_account_id, line_item_usage_type, sum(line_item_usage_amount) from cur "
                "where line_item_product_code = 'AmazonBedrock' and line_item_usage_type like '%-tokens' "
                "group by 1, 2"))
    names = {m.canonical: m.cur_name for m in MODELS.values()}
    logged: dict = {}
    for account, region, model, inp, out in _query(
            warehouse, "select account_id, region, model, sum(input_tokens), sum(output_tokens) "
                       "from raw.inference_requests where source_format = 'bedrock' and model not like 'arn:%' "
                       "group by all"):
        prefix = {"us-east-1": "USE1", "us-west-2": "USW2"}[region]
        for suffix, tokens in (("input-tokens", inp), ("output-tokens", out)):
            if tokens:
                logged[(account, f"{prefix}-{names[model]}-{suffix}")] = int(tokens)
    assert billed == logged
    # Each token line costs tokens x the warehouse price book's price of that day, to 10 dp: checked on the model
    # whose price changes mid-window (INC-006), so both prices are billed.
    changed = MODELS[next(f for f in incidents(Window(10)) if f.kind == "price_change").effect["model"]]
    book = _query(warehouse, "select effective_from, effective_to, usd_per_million from ref.price_book where "
                             "model = ? and token_type = 'input' and region = '*'", [changed.canonical])
    lines = _parquet(folder, "select line_item_usage_start_date, line_item_usage_amount, line_item_unblended_cost "
                             f"from cur where line_item_usage_type like '%-{changed.cur_name}-input-tokens'")
    assert lines and len(book) == 2 and len({price for _, _, price in book}) == 2
    for start, amount, cost in lines:
        price = next(p for begin, end, p in book if begin <= start.date() and (end is None or start.date() < end))
        assert Decimal(str(cost)) == (Decimal(int(amount)) * price / 1_000_000).quantize(Decimal("1e-10"))


def test_cur_has_capacity_support_tax_and_non_ai_lines_in_the_real_layout(tiny_demo):
    _, _, _, folder = tiny_demo
    kinds = {row[0] for row in _parquet(folder, "select line_item_usage_type from cur")}
    assert {"USE1-Host:ml.g5.2xlarge", "BoxUsage:g5.12xlarge", "Dollar", "TimedStorage-ByteHrs"} <= kinds
    assert any(k.startswith("USE1-ProvisionedThroughput") for k in kinds)
    assert any(k.endswith("-cache-read-input-token-count") for k in kinds)
    tax = _parquet(folder, "select line_item_usage_start_date, bill_billing_period_start_date from cur "
                           "where line_item_line_item_type = 'Tax'")
    assert tax and all(start == period for start, period in tax)
    maps = _parquet(folder, "select resource_tags['user_team'] from cur where line_item_product_code = "
                            "'AmazonSageMaker' and line_item_line_item_type = 'Usage' limit 1")
    assert maps == [("support-automation",)]
    manifests = list((folder / CUR_ROOT / "metadata").glob("BILLING_PERIOD=*/acme-cur2-Manifest.json"))
    assert manifests and all(json.loads(m.read_text())["reportKeys"] for m in manifests)


def test_current_month_is_restated_in_full_by_a_second_delivery(tiny_demo):
    _, _, warehouse, _ = tiny_demo
    versions = _query(warehouse, "select billing_period, count(distinct version), arg_max(rows_loaded, replaced_at), "
                                 "min(rows_loaded) from meta.billing_periods group by 1 order by 1 desc limit 1")
    period, count, latest_rows, first_rows = versions[0]
    assert count == 2 and latest_rows > first_rows


def test_ground_truth_is_in_the_warehouse_and_the_json(tiny_demo):
    _, _, warehouse, folder = tiny_demo
    kinds = {row[0] for row in _query(warehouse, "select kind from demo.incidents")}
    assert kinds == {"cost_spike", "prompt_bloat", "runaway_loop", "cache_collapse", "model_rollout", "price_change"}
    assert {row[0] for row in _query(warehouse, "select kind from demo.opportunities")} == {
        "cheaper_model", "batchable", "low_utilisation_provisioned"}
    document = json.loads((folder / "demo-incidents.json").read_text())
    assert [i["id"] for i in document["incidents"]] == [r[0] for r in _query(
        warehouse, "select id from demo.incidents order by id")]


def test_price_change_is_a_config_override_the_bill_follows(tiny_demo):
    _, _, warehouse, folder = tiny_demo
    change = next(f for f in incidents(Window(10)) if f.kind == "price_change")
    assert f'effective_from = {change.start.date().isoformat()}' in (folder / "costwarden.demo.toml").read_text()
    model = MODELS[change.effect["model"]]
    rates = dict(_parquet(folder, "select line_item_usage_start_date >= " + f"'{change.start:%Y-%m-%d}'" +
                                  ", max(line_item_unblended_rate) from cur where line_item_usage_type "
                                  f"like '%-{model.cur_name}-input-tokens' group by 1"))
    assert Decimal(rates[False]) * 1_000_000 == model.prices["input"]
    assert Decimal(rates[True]) * 1_000_000 == change.effect["prices"]["input"] != model.prices["input"]


def _stored_text(warehouse: str):
    con = duckdb.connect(warehouse, read_only=True)
    try:
        for schema, table in con.execute("select table_schema, table_name from information_schema.tables "
                                         "where table_type = 'BASE TABLE'").fetchall():
            yield f"{schema}.{table}", con.execute(f"select cast(list(t) as varchar) from {schema}.{table} t"
                                                   ).fetchone()[0] or ""
    finally:
        con.close()


_PERSON = re.compile(r"(dev|researcher)\d\d@acme\.example")   # the demo's human caller sessions


def test_no_prompt_text_or_raw_caller_identity_is_stored(tiny_demo):
    _, _, warehouse, folder = tiny_demo
    raw = b"".join(gzip.decompress(p.read_bytes()) for p in (folder / "bedrock-logs").rglob("*.json.gz"))
    assert SYNTHETIC_PROMPT.encode() in raw and _PERSON.search(raw.decode())   # the sources do carry both
    for table, text in _stored_text(warehouse):
        assert SYNTHETIC_PROMPT not in text and SYNTHETIC_RESPONSE not in text, table
        if table != "raw.cost_lines":     # see the next test
            assert not _PERSON.search(text), f"raw identity in {table}"


def test_cur_iam_principal_session_names_are_not_stored(tiny_demo):
    _, _, warehouse, _ = tiny_demo
    assert not _PERSON.search(dict(_stored_text(warehouse))["raw.cost_lines"])


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    def digests(folder: Path, seed: int) -> dict[str, str]:
        generate(folder, days=7, scale=0.02, seed=seed)
        return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file()}

    first, second, other = (digests(tmp_path / name, seed) for name, seed in (("a", 3), ("b", 3), ("c", 4)))
    assert first == second
    logs = {k for k in first if k.endswith(".json.gz")}
    assert logs and any(first.get(k) != other.get(k) for k in logs)


def test_demo_through_its_local_s3_server(cli, warehouse):
    code, out, err = cli("demo", "--days", "7", "--scale", "0.01", "--no-dashboard")
    assert code == 0, out + err
    uris = {row[0].split("/")[2] for row in _query(warehouse, "select source_uri from meta.loads")}
    assert uris == {"costwarden-demo"}                                  # every source came from s3://costwarden-demo
    assert _query(warehouse, "select count(*) from raw.inference_requests")[0][0] > 0
    assert _query(warehouse, "select count(*) from demo.incidents")[0][0] == 6
    assert (Path(warehouse).parent / "costwarden-demo" / "costwarden.demo.toml").is_file()


def test_a_warehouse_with_other_data_is_never_replaced(cli, warehouse, tmp_path):
    write_bedrock_logs(tmp_path / "logs", hours=1, per_hour=3)
    assert cli("ingest", str(tmp_path / "logs"))[0] == 0
    code, _, err = cli("demo", "--local", str(tmp_path / "d"), *TINY)
    assert code == 2 and "not from `costwarden demo`" in err
    assert _query(warehouse, "select count(*) from raw.inference_requests")[0][0] == 3


def test_a_warehouse_named_like_the_demo_schema_is_refused_before_any_work(tmp_path, capsys):
    code = cli_main(["--warehouse", str(tmp_path / "demo.duckdb"), "demo", "--local", str(tmp_path / "d"), *TINY])
    assert code == 2 and "ambiguous" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_a_local_folder_not_written_by_the_demo_is_refused(cli, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    code, _, err = cli("demo", "--local", str(tmp_path / "mine"), *TINY)
    assert code == 2 and "not empty" in err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


# ---- the incidents are really in the traffic (on the simulation itself: fast, no files) -------------------------

@pytest.fixture(scope="module")
def traffic():
    w = Window(30)
    table = simulate(w, 0.5, 11).to_pydict()
    return w, {k: np.asarray(v) for k, v in table.items()}


def _agent(traffic, name):
    w, t = traffic
    mask = t["agent"] == AGENT_INDEX[name]
    hours = (t["at_ms"][mask] - w.start_ms) // 3_600_000
    return {k: v[mask] for k, v in t.items()}, hours


def _incident(w, kind):
    return next(f for f in incidents(w) if f.kind == kind)


def test_prompt_bloat_triples_input_tokens_per_request(traffic):
    w = traffic[0]
    rows, hours = _agent(traffic, "ticket-summariser")
    start = w.hour_index(_incident(w, "prompt_bloat").start)
    ok = rows["error"] == 0
    ratio = np.median(rows["input_tokens"][ok & (hours >= start)]) / np.median(rows["input_tokens"][ok & (hours < start)])
    assert 2.5 < ratio < 3.5


def test_runaway_loop_makes_runs_twenty_times_longer(traffic):
    w = traffic[0]
    rows, hours = _agent(traffic, "code-review-bot")
    loop = _incident(w, "runaway_loop")
    inside = (hours >= w.hour_index(loop.start)) & (hours < w.hour_index(loop.end))
    steps_in = np.bincount(np.unique(rows["trace_lo"][inside], return_inverse=True)[1]).mean()
    steps_out = np.bincount(np.unique(rows["trace_lo"][~inside], return_inverse=True)[1]).mean()
    assert steps_in > 10 * steps_out


def test_cache_collapse_stops_cache_reads(traffic):
    w = traffic[0]
    rows, hours = _agent(traffic, "kb-answerer")
    f = _incident(w, "cache_collapse")
    inside = (hours >= w.hour_index(f.start)) & (hours < w.hour_index(f.end))
    assert rows["cache_read_tokens"][inside].sum() == 0
    assert (rows["cache_read_tokens"][~inside] > 0).mean() > 0.6


def test_model_rollout_switches_the_model_from_its_date(traffic):
    w = traffic[0]
    rows, hours = _agent(traffic, "fraud-explainer")
    start = w.hour_index(_incident(w, "model_rollout").start)
    before = {MODEL_KEYS[m] for m in rows["model"][hours < start]}
    after = {MODEL_KEYS[m] for m in rows["model"][hours >= start]}
    assert before == {"nova-pro"} and after == {"claude-3-7-sonnet"}


def test_cost_spike_is_one_day_of_one_team(traffic):
    w = traffic[0]
    rows, hours = _agent(traffic, "campaign-writer")
    day = (hours // 24)
    per_day = np.bincount(day, minlength=w.days)
    spike = _incident(w, "cost_spike").start
    assert int(np.argmax(per_day)) == (spike - w.start).days
    assert per_day.max() > 5 * np.median(per_day[per_day > 0])


def test_cheaper_model_matches_on_classification_but_not_extraction(traffic):
    rows, _ = _agent(traffic, "eval-harness")
    scored = ~np.isnan(rows["quality"].astype(float))

    def mean(model, task):
        pick = scored & (rows["model"] == MODEL_KEYS.index(model)) & (rows["task"] == ("qa", "summarisation",
                                                                                       "extraction", "coding",
                                                                                       "classification",
                                                                                       "generation").index(task))
        return rows["quality"][pick].astype(float).mean()

    assert abs(mean("nova-micro", "classification") - mean("claude-3-5-sonnet", "classification")) < 0.05
    assert mean("claude-3-5-sonnet", "extraction") - mean("nova-micro", "extraction") > 0.2


def test_window_ends_on_the_fixed_date_and_every_incident_fits_any_length():
    assert Window(120).start == datetime(2026, 7, 4) and Window(10).stop == datetime(2026, 11, 1)
    for days in (7, 10, 30, 120):
        w = Window(days)
        for f in incidents(w):
            assert w.start <= f.start < w.stop and (f.end is None or f.end <= w.stop + timedelta(days=3)), (days, f.id)
        spike, loop = (_incident(w, kind).start for kind in ("cost_spike", "runaway_loop"))
        assert spike.weekday() < 5 and loop.weekday() < 5      # business-hours agents are busy on weekdays
