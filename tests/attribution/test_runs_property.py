"""Property: whatever the runs look like (shared traces, failures, timeouts, retries, calls without bills, bills in
USD and CNY), every call is in exactly one run, and runs and unit cost add up to the allocated request spend."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costwarden import warehouse
from tests.attribution.builders import add_line, add_request, build, new_warehouse, rows

START = datetime(2026, 10, 1)
OUTCOMES = {"ok": ("success", None), "throttled": ("error", "ThrottlingException"),
            "timeout": ("error", "ModelTimeoutException")}
MARTS_AUDITS = {"unit_cost_equals_allocated", "reconciliation_daily_adds_up"}

minute = st.integers(min_value=0, max_value=2 * 24 * 60 - 1)   # two days
call = st.tuples(minute, st.sampled_from([None, "t1", "t2", "t3"]), st.sampled_from(["a", "b"]),
                 st.integers(0, 3000), st.sampled_from(list(OUTCOMES)))
line = st.tuples(st.integers(0, 47), st.decimals(min_value=Decimal("0"), max_value=Decimal("20"), places=10),
                 st.sampled_from(["input", "output"]))


def currency_of(hour: int) -> str:
    # One account bills one currency per hour (two currencies for the same account, hour, model and token type
    # would be contradictory bills, which the audit no_request_priced_twice reports); days still mix USD and CNY.
    return "USD" if hour % 2 == 0 else "CNY"


@pytest.mark.slow    # each example is a full build (about 1 s on an idle 2-core machine)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(call, max_size=10), lines=st.lists(line, max_size=6))
def test_runs_partition_calls_and_add_up(tmp_path_factory, calls, lines):
    con = new_warehouse(str(tmp_path_factory.mktemp("runs") / "w.duckdb"))
    try:
        for at, trace, team, tokens, outcome in calls:
            status, error_class = OUTCOMES[outcome]
            request_id = add_request(con, START + timedelta(minutes=at), team=team, input_tokens=tokens)
            con.execute("update raw.inference_requests set trace_id = ?, status = ?, error_class = ? "
                        "where request_id = ?", [trace, status, error_class, request_id])
        for hour, billed, token_type in lines:
            add_line(con, START + timedelta(hours=hour), billed, currency=currency_of(hour),
                     usage_type=f"USE1-NovaLite-{token_type}-tokens")
        assert build(con) == []
        assert [a.name for a in warehouse.run_audits(con) if a.name in MARTS_AUDITS and a.failing_rows] == []
        runs = rows(con, "select run_id, max(calls), max(failed_calls), max(timed_out_calls) from marts.agent_runs "
                         "group by run_id")
        traces = {trace for _, trace, *_ in calls if trace}
        untraced = sum(1 for _, trace, *_ in calls if trace is None)
        assert len(runs) == len(traces) + untraced           # a call without a trace is a run of its own
        assert sum(r[1] for r in runs) == len(calls)
        assert sum(r[2] for r in runs) == sum(1 for c in calls if c[4] != "ok")
        assert sum(r[3] for r in runs) == sum(1 for c in calls if c[4] == "timeout")
        # bills here are non-negative, so waste is a part of the cost, per run and currency
        assert rows(con, "select count(*) from marts.agent_runs where waste_cost < 0 or waste_cost > cost") == [(0,)]
        by_currency = rows(con, "select billing_currency, sum(cost), sum(waste_cost) from marts.agent_runs "
                                "group by 1 order by 1")
        assert by_currency == rows(con, "select billing_currency, sum(cost), sum(waste_cost) from marts.unit_cost "
                                        "group by 1 order by 1")
    finally:
        con.close()
