"""Agent runs, unit cost, performance and daily reconciliation on tiny hand-made warehouses, checked to the digit."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from costwarden import warehouse
from models.attribution import CapacityRule
from tests.attribution.builders import add_line, add_request, build, new_warehouse, rows

HOUR = datetime(2026, 10, 5, 10)
TENTH_NANO = Decimal("1e-10")
PT_ARN = "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/pt1"
MARTS_AUDITS = {"unit_cost_equals_allocated", "reconciliation_daily_adds_up"}


@pytest.fixture
def con(tmp_path):
    connection = new_warehouse(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def call(con, at: datetime, trace: str | None = None, status="success", error_class=None, finish_reason=None,
         ttft_ms=None, **kwargs) -> str:
    """A request with the run and outcome fields the builders do not set (input tokens only, unless told)."""
    kwargs.setdefault("output_tokens", 0)
    request_id = add_request(con, at, **kwargs)
    con.execute("update raw.inference_requests set trace_id = ?, status = ?, error_class = ?, finish_reason = ?, "
                "ttft_ms = ? where request_id = ?", [trace, status, error_class, finish_reason, ttft_ms, request_id])
    return request_id


def build_all(con, **kwargs) -> None:
    assert build(con, **kwargs) == []
    failing = [a for a in warehouse.run_audits(con) if a.name in MARTS_AUDITS and a.failing_rows]
    assert failing == []


def one(con, sql, params=None):
    found = rows(con, sql, params)
    assert len(found) == 1, found
    return found[0]


def test_run_waste_counts_failed_timed_out_and_retried_calls(con):
    # A run of four calls: a plan call, a call that times out after the input was billed, its retry with the same
    # prompt, and a throttled call that billed nothing and was retried too. The bill covers the hour's input tokens.
    call(con, HOUR.replace(minute=1), trace="t1", team="a", input_tokens=1000, output_tokens=0)
    call(con, HOUR.replace(minute=2), trace="t1", team="a", input_tokens=3000, output_tokens=0,
         status="error", error_class="ModelTimeoutException")
    call(con, HOUR.replace(minute=3), trace="t1", team="a", input_tokens=3000, output_tokens=0,
         status="error", error_class="ThrottlingException")
    call(con, HOUR.replace(minute=4), trace="t1", team="a", input_tokens=3000, output_tokens=0,
         finish_reason="end_turn")
    add_line(con, HOUR, "1.0")        # 10,000 input tokens: 0.1 / 0.3 / 0.3 / 0.3
    build_all(con)
    run = one(con, "select run_id, calls, failed_calls, timed_out_calls, retried_calls, waste_calls, succeeded, "
                   "billing_currency, cost, waste_cost, unbilled_estimate from marts.agent_runs")
    assert run == ("t1", 4, 2, 1, 2, 2, True, "USD", Decimal("1.0000000000"), Decimal("0.6000000000"),
                   Decimal("0E-10"))
    flags = rows(con, "select is_failed, is_timed_out, is_retried from intermediate.int_agent_calls "
                      "order by occurred_at")
    assert flags == [(False, False, False), (True, True, True), (True, False, True), (False, False, False)]
    unit = one(con, "select cost, requests, runs, successful_runs, waste_cost, cost_per_request, cost_per_run, "
                    "cost_per_successful_run, cost_per_1k_tokens from marts.unit_cost")
    assert unit == (Decimal("1.0000000000"), 4, 1, 1, Decimal("0.6000000000"), Decimal("0.2500000000"),
                    Decimal("1.0000000000"), Decimal("1.0000000000"), Decimal("0.1000000000"))   # $1 / 10K tokens


def test_cut_off_call_and_same_prompt_resend_are_retries(con):
    call(con, HOUR.replace(minute=1), trace="t", input_tokens=500, finish_reason="length")
    # still running after 90 s when the client re-sends the same prompt at minute 2
    call(con, HOUR.replace(minute=2), trace="t", input_tokens=700, latency_ms=90_000.0)
    call(con, HOUR.replace(minute=3), trace="t", input_tokens=700, latency_ms=500.0)   # same size, after it ended
    call(con, HOUR.replace(minute=4), trace="t", input_tokens=700)    # the last call: nothing after it
    call(con, HOUR.replace(minute=5), trace="t", input_tokens=700, model="amazon.nova-pro-v1:0")  # another model
    build_all(con)
    assert rows(con, "select is_retried from intermediate.int_agent_calls order by occurred_at") == [
        (True,), (True,), (False,), (False,), (False,)]


def test_run_that_ends_in_an_error_did_not_succeed(con):
    call(con, HOUR.replace(minute=1), trace="ok", team="a", input_tokens=1000)
    call(con, HOUR.replace(minute=2), trace="bad", team="a", input_tokens=1000)
    call(con, HOUR.replace(minute=3), trace="bad", team="a", input_tokens=0, output_tokens=0, status="error",
         error_class="InternalServerException")
    call(con, HOUR.replace(minute=4), team="a", input_tokens=1000)     # no trace: a run of its own
    add_line(con, HOUR, "0.9")
    build_all(con)
    runs = rows(con, "select run_id like 'bedrock|req-%', calls, succeeded, cost from marts.agent_runs "
                     "order by started_at")
    assert runs == [(False, 1, True, Decimal("0.3000000000")), (False, 2, False, Decimal("0.3000000000")),
                    (True, 1, True, Decimal("0.3000000000"))]
    unit = one(con, "select runs, successful_runs, cost_per_run, cost_per_successful_run from marts.unit_cost")
    assert unit == (3, 2, Decimal("0.3000000000"), Decimal("0.4500000000"))


def test_request_without_bill_keeps_its_estimate_flagged(con):
    billed = call(con, HOUR, team="a", input_tokens=1000)
    unbilled = call(con, HOUR + timedelta(days=1), team="a", input_tokens=2_000_000)   # the bill lags a day
    add_line(con, HOUR, "0.07")
    build_all(con)
    costs = dict((r[0].split("|")[1], r[1:]) for r in rows(
        con, "select request_key, cost, unbilled_estimate, cost_basis from intermediate.int_request_costs"))
    # Nova Lite input lists at $0.06 per million tokens
    assert costs[billed] == (Decimal("0.0700000000"), Decimal("0E-10"), "billed")
    assert costs[unbilled] == (Decimal("0.1200000000"), Decimal("0.1200000000"), "estimated")
    assert rows(con, "select day, cost, unbilled_estimate from marts.unit_cost order by day") == [
        (HOUR.date(), Decimal("0.0700000000"), Decimal("0E-10")),
        ((HOUR + timedelta(days=1)).date(), Decimal("0.1200000000"), Decimal("0.1200000000"))]


def test_unit_ratios_are_exact_and_round_half_up(con):
    for minute in (1, 2, 3):
        call(con, HOUR.replace(minute=minute), trace=f"r{minute}", input_tokens=1000, output_tokens=0)
    add_line(con, HOUR, "1.0000000001")
    add_line(con, HOUR, "-0.0000000003", usage_type="USE1-NovaLite-input-tokens")   # a credit in the same pot
    build_all(con)
    cost, per_request, per_1k, per_run = one(
        con, "select cost, cost_per_request, cost_per_1k_tokens, cost_per_run from marts.unit_cost")
    assert cost == Decimal("0.9999999998")
    assert per_request == per_run == (cost / 3).quantize(TENTH_NANO, ROUND_HALF_UP) == Decimal("0.3333333333")
    assert per_1k == (cost * 1000 / 3000).quantize(TENTH_NANO, ROUND_HALF_UP)


def test_several_currencies_are_never_summed(con):
    call(con, HOUR, team="a", input_tokens=1000, output_tokens=100)
    call(con, HOUR, team="b", input_tokens=3000, output_tokens=100)
    add_line(con, HOUR, "0.4")
    add_line(con, HOUR, "8.8", currency="CNY", usage_type="USE1-NovaLite-output-tokens")
    build_all(con)
    got = rows(con, "select billing_currency, team, cost from marts.unit_cost order by 1, 2")
    assert got == [("CNY", "a", Decimal("4.4000000000")), ("CNY", "b", Decimal("4.4000000000")),
                   ("USD", "a", Decimal("0.1000000000")), ("USD", "b", Decimal("0.3000000000"))]
    runs = rows(con, "select billing_currency, sum(cost) from marts.agent_runs group by 1 order by 1")
    assert runs == [("CNY", Decimal("8.8000000000")), ("USD", Decimal("0.4000000000"))]


def test_percentiles_match_numpy_and_skip_failed_calls(con):
    rng = np.random.default_rng(3)
    latencies = rng.lognormal(7, 0.5, 60).round(1)
    ttfts = (latencies * 0.3).round(1)
    for i, (latency, ttft) in enumerate(zip(latencies, ttfts)):
        call(con, HOUR + timedelta(seconds=i), latency_ms=float(latency), ttft_ms=float(ttft), team="a")
    for i in range(4):   # failures: counted as errors, kept out of the latency percentiles
        call(con, HOUR + timedelta(seconds=100 + i), latency_ms=60000.0, status="error",
             error_class="ModelTimeoutException", input_tokens=0, output_tokens=0, team="a")
    build_all(con)
    for mart in ("performance_by_agent", "performance_by_model"):
        got = one(con, f"select requests, errors, timeouts, error_rate, p50_latency_ms, p95_latency_ms, "
                       f"p99_latency_ms, p50_ttft_ms, p95_ttft_ms, p99_ttft_ms, jitter from marts.{mart}")
        assert got[:4] == (64, 4, 4, 4 / 64)
        expected = [*np.percentile(latencies, [50, 95, 99]), *np.percentile(ttfts, [50, 95, 99])]
        assert got[4:10] == pytest.approx(expected, rel=1e-12)
        assert got[10] == pytest.approx(expected[2] / expected[0], rel=1e-12)


def test_model_versions_are_compared_side_by_side(con):
    for i in range(10):
        request_id = call(con, HOUR + timedelta(minutes=i), latency_ms=1000.0 + 100 * (i % 2))
        con.execute("update raw.inference_requests set model_version = ? where request_id = ?",
                    ["v1:0" if i % 2 == 0 else "v2:0", request_id])
    build_all(con)
    got = rows(con, "select model_version, requests, p50_latency_ms from marts.performance_by_model order by 1")
    assert got == [("v1:0", 5, 1000.0), ("v2:0", 5, 1100.0)]


def test_reconciliation_daily_splits_the_genai_bill(con):
    # Tokens with a request (a: 0.3), tokens without (unallocated 0.2), a capacity hour used by team b for 1,000 of
    # 10,000 tokens (b: 0.4, idle 3.6), a tagged S3 line (other direct) and an untagged support line (__shared__).
    call(con, HOUR, team="a", input_tokens=1000)
    call(con, HOUR, team="b", model=PT_ARN, model_id=PT_ARN, input_tokens=1000, output_tokens=0)
    add_line(con, HOUR, "0.3")
    add_line(con, HOUR, "0.2", usage_type="USE1-NovaLite-cache-read-input-token-count")
    add_line(con, HOUR, "4", resource_id=PT_ARN, usage_type="USE1-ProvisionedThroughput-NovaLite-NoCommit")
    add_line(con, HOUR, "1.5", usage_type="TimedStorage-ByteHrs", service_code="AmazonS3",
             tags={"user_team": "a"})
    add_line(con, HOUR, "2", usage_type="Dollar", service_code="AWSSupportBusiness", charge_category="Purchase")
    from costwarden.config import OrgRule
    build_all(con, capacity=[CapacityRule(name="pt", resource_id=PT_ARN, serves_model=PT_ARN,
                                          capacity_per_hour=10000)],
              org_rules=[OrgRule(match="tag", key="user_team", pattern="a", team="a", department="dept-a")])
    got = one(con, "select genai_billed, attributed_to_teams, unallocated, idle, other_direct, shared_allocated, "
                   "shared, total_billed, coverage_pct from marts.reconciliation_daily")
    assert got[:8] == (Decimal("4.5"), Decimal("0.7"), Decimal("0.2"), Decimal("3.6"), Decimal("1.5"),
                       Decimal("0"), Decimal("2"), Decimal("8"))
    assert got[8] == pytest.approx(100 * 0.7 / 4.5)


def test_capacity_hour_split_across_teams_reaches_unit_cost(con):
    # $3.50 for an hour of a unit that serves 1,000 tokens: a uses 300, b 100, 600 are idle (policy central)
    call(con, HOUR.replace(minute=1), trace="a1", team="a", model=PT_ARN, model_id=PT_ARN, input_tokens=300)
    call(con, HOUR.replace(minute=2), trace="b1", team="b", model=PT_ARN, model_id=PT_ARN, input_tokens=100)
    add_line(con, HOUR, "3.5", usage_type="USE1-ProvisionedThroughput-NovaLite-NoCommit", resource_id=PT_ARN)
    build_all(con, capacity=[CapacityRule(name="pt", resource_id=PT_ARN, serves_model=PT_ARN,
                                          capacity_per_hour=1000)])
    assert rows(con, "select team, cost_kind, billed_cost from marts.allocated_cost order by 1") == [
        ("__idle__", "idle", Decimal("2.1")), ("a", "capacity", Decimal("1.05")), ("b", "capacity", Decimal("0.35"))]
    assert rows(con, "select team, cost, cost_per_1k_tokens, cost_per_run from marts.unit_cost order by 1") == [
        ("a", Decimal("1.05"), Decimal("3.5"), Decimal("1.05")), ("b", Decimal("0.35"), Decimal("3.5"), Decimal("0.35"))]
    assert one(con, "select genai_billed, attributed_to_teams, idle, coverage_pct from marts.reconciliation_daily") \
        == (Decimal("3.5"), Decimal("1.4"), Decimal("2.1"), pytest.approx(40.0))
