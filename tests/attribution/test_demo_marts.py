"""The unit-cost, run, performance and reconciliation marts on the session demo company (120 days, scale 0.1)."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import numpy as np
import pytest

from costwarden import warehouse

MARTS_AUDITS = {"unit_cost_equals_allocated", "reconciliation_daily_adds_up"}


@pytest.fixture(scope="module")
def con(demo_company):
    connection = duckdb.connect(demo_company.warehouse, read_only=True)
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


def value(con, sql, params=None):
    return con.execute(sql, params or []).fetchone()[0]


def test_marts_audits_pass_on_the_demo(con):
    assert [(a.name, a.sample) for a in warehouse.run_audits(con) if a.name in MARTS_AUDITS and a.failing_rows] == []


def test_every_call_is_in_exactly_one_run_and_unit_cost(con):
    requests = value(con, "select count(*) from staging.stg_inference_requests")
    assert value(con, "select count(distinct run_id) from marts.agent_runs") == value(
        con, "select count(distinct coalesce(nullif(trace_id, ''), source_format || '|' || request_id)) "
             "from staging.stg_inference_requests")
    # the demo bills everything in USD, so each run has one row and its calls add up to the requests
    assert value(con, "select count(*) from marts.agent_runs") == value(
        con, "select count(distinct run_id) from marts.agent_runs")
    assert value(con, "select sum(calls) from marts.agent_runs") == requests
    assert value(con, "select sum(requests) from marts.unit_cost") == requests


def test_unit_cost_equals_allocated_request_spend(con):
    allocated = value(con, "select sum(case when cost_kind = 'estimated_unbilled' then estimated_cost "
                           "else billed_cost end) from marts.allocated_cost "
                           "where cost_kind in ('tokens', 'capacity', 'estimated_unbilled')")
    assert value(con, "select sum(cost) from marts.unit_cost") == allocated
    assert value(con, "select sum(cost) from marts.agent_runs") == allocated
    assert allocated > Decimal(1000)


def test_runaway_loop_shows_as_long_expensive_runs(con):
    # INC-003: code-review-bot loops on 2026-08-27 15:00-21:00; compare with its runs in the same hours of the
    # surrounding two weeks.
    start, end = con.execute("select start, \"end\" from demo.incidents where id = 'INC-003'").fetchone()
    during, before = con.execute("""
        select
            avg(calls) filter (where started_at >= ? and started_at < ?),
            avg(calls) filter (where started_at < ? or started_at >= ?)
        from marts.agent_runs
        where agent = 'code-review-bot' and hour(started_at) between hour(?) and hour(?) - 1
            and started_at between ? - interval 7 day and ? + interval 7 day""",
                                 [start, end, start, end, start, end, start, end]).fetchone()
    assert during > 10 * before
    cost_during, cost_before = con.execute("""
        select
            max(cost_per_run) filter (where day = cast(? as date)),
            median(cost_per_run) filter (where day <> cast(? as date))
        from marts.unit_cost where agent = 'code-review-bot'""", [start, start]).fetchone()
    assert cost_during > 5 * cost_before


def test_percentiles_match_numpy_on_the_busiest_streaming_group(con):
    # the busiest (day, agent, model version) whose calls report time to first token (streaming calls do)
    day, agent, model, version = con.execute(
        "select day, agent, model, model_version from marts.performance_by_agent where p50_ttft_ms is not null "
        "order by requests desc, day, agent limit 1").fetchone()
    group = [day, agent, model, version]
    where = ("usage_date = ? and agent = ? and model = ? and model_version is not distinct from ? "
             "and status = 'success'")
    latencies = [r[0] for r in con.execute(f"select latency_ms from staging.stg_inference_requests where {where} "
                                           "and latency_ms is not null", group).fetchall()]
    ttfts = [r[0] for r in con.execute(f"select ttft_ms from staging.stg_inference_requests where {where} "
                                       "and ttft_ms is not null", group).fetchall()]
    got = con.execute("select p50_latency_ms, p95_latency_ms, p99_latency_ms, p50_ttft_ms, p95_ttft_ms, "
                      "p99_ttft_ms, jitter from marts.performance_by_agent where day = ? and agent = ? "
                      "and model = ? and model_version is not distinct from ?", group).fetchall()
    assert len(got) == 1 and len(latencies) > 20 and len(ttfts) > 20
    expected = [*np.percentile(latencies, [50, 95, 99]), *np.percentile(ttfts, [50, 95, 99])]
    assert got[0][:6] == pytest.approx(expected, rel=1e-9)
    assert got[0][6] == pytest.approx(expected[2] / expected[0], rel=1e-9)


def test_model_rollout_is_visible_per_model(con):
    # INC-005: fraud-explainer moves to another model on 2026-09-16; both models show up that week, each with its
    # own latency percentiles.
    start = value(con, "select start from demo.incidents where id = 'INC-005'")
    models = con.execute("""
        select model, min(day), max(day) from marts.performance_by_agent
        where agent = 'fraud-explainer' and day between cast(? as date) - 3 and cast(? as date) + 3
        group by model order by 2""", [start, start]).fetchall()
    assert len(models) == 2
    assert models[0][2] < start.date() <= models[1][1]


def test_reconciliation_daily_on_the_demo(con):
    totals = con.execute("select sum(total_billed), sum(genai_billed), sum(idle), count(*) "
                         "from marts.reconciliation_daily").fetchone()
    assert totals[0] == value(con, "select sum(billed_cost) from staging.stg_cost_lines")
    assert totals[2] > 0          # the under-used provisioned unit leaves idle capacity every hour
    coverage = value(con, "select min(coverage_pct) from marts.reconciliation_daily where genai_billed > 0")
    assert 0 < coverage <= 100
