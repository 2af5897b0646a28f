"""Property: whatever the bills and logs (empty days, requests without bills, bills without requests, several
currencies, idle capacity, credits), allocated billed and effective cost equal the bill per day and currency, and the
marts built on it (unit cost, agent runs, daily reconciliation) add up to the same money."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.attribution import CapacityRule, SharedCostRule
from costwarden import warehouse
from tests.attribution.builders import add_line, add_request, build, new_warehouse, rows

START = datetime(2026, 10, 1)
PT_ARN = "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/pt1"
CAPACITY = [CapacityRule(name="pt", resource_id=PT_ARN, serves_model=PT_ARN, capacity_per_hour=5000)]
SHARED = [SharedCostRule(name="support", match="service_code", pattern="AWSSupport*", method="proportional")]

money = st.decimals(min_value=Decimal("-5"), max_value=Decimal("50"), places=10, allow_nan=False,
                    allow_infinity=False)
hour = st.integers(min_value=0, max_value=3 * 24 - 1)          # three days, some of them empty
request = st.tuples(hour, st.sampled_from(["a", "b", "c"]), st.integers(0, 5000), st.booleans())
line = st.tuples(hour, st.sampled_from(["tokens", "capacity", "support", "storage"]), money, money)
CURRENCIES = ("USD", "CNY", "EUR")   # by hour: a day mixes all three, an account-hour bills in one
MARTS_AUDITS = {"unit_cost_equals_allocated", "reconciliation_daily_adds_up"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(request, max_size=8), lines=st.lists(line, max_size=8))
def test_allocated_equals_billed_per_day_and_currency(tmp_path_factory, requests, lines):
    con = new_warehouse(str(tmp_path_factory.mktemp("prop") / "w.duckdb"))
    try:
        for at, team, tokens, provisioned in requests:
            when = START + timedelta(hours=at, minutes=7)
            if provisioned:
                add_request(con, when, team=team, model=PT_ARN, model_id=PT_ARN, input_tokens=tokens)
            else:
                add_request(con, when, team=team, input_tokens=tokens)
        for at, kind, billed, effective in lines:
            when, currency = START + timedelta(hours=at), CURRENCIES[at % 3]
            if kind == "tokens":
                add_line(con, when, billed, effective, currency=currency)
            elif kind == "capacity":
                add_line(con, when, billed, effective, currency=currency, resource_id=PT_ARN,
                         usage_type="USE1-ProvisionedThroughput-NovaLite-NoCommit")
            elif kind == "support":
                add_line(con, when, billed, effective, currency=currency, usage_type="Dollar",
                         service_code="AWSSupportBusiness", charge_category="Purchase", hours=24)
            else:
                add_line(con, when, billed, effective, currency=currency, usage_type="TimedStorage-ByteHrs",
                         service_code="AmazonS3")
        assert build(con, capacity=CAPACITY, shared_costs=SHARED) == []
        billed = rows(con, "select charge_date, billing_currency, sum(billed_cost), sum(effective_cost) "
                           "from staging.stg_cost_lines group by all order by all")
        allocated = rows(con, "select day, billing_currency, sum(billed_cost), sum(effective_cost) "
                              "from marts.allocated_cost where cost_kind <> 'estimated_unbilled' "
                              "group by all order by all")
        assert allocated == billed
        # every request with tokens is accounted for once: billed as tokens/capacity, or estimated_unbilled
        counted = rows(con, "select count(distinct request_key) from intermediate.int_genai_claims "
                            "where request_key is not null")[0][0]
        unbilled = rows(con, "select coalesce(sum(requests), 0) from marts.allocated_cost "
                             "where cost_kind = 'estimated_unbilled'")[0][0]
        with_tokens = sum(1 for r in requests if r[2] > 0)
        assert with_tokens <= counted + unbilled
        # unit cost and runs add up to the request-driven spend; the daily reconciliation adds up to the bill
        assert [a.name for a in warehouse.run_audits(con) if a.name in MARTS_AUDITS and a.failing_rows] == []
        daily = dict(((d, c), b) for d, c, b in rows(
            con, "select day, billing_currency, total_billed from marts.reconciliation_daily"))
        assert {key: daily.get(key) for key in [(d, c) for d, c, _, _ in billed]} == {
            (d, c): b for d, c, b, _ in billed}
        assert all(b == 0 for key, b in daily.items() if key not in {(d, c) for d, c, _, _ in billed})
        # a capacity hour the provisioned requests did not fill leaves an explicit idle row (policy central)
        used = {}
        for at, _, tokens, provisioned in requests:
            if provisioned:
                used[at] = used.get(at, 0) + tokens + 100        # builders' requests have 100 output tokens
        expect_idle = {((START + timedelta(hours=at)).date(), CURRENCIES[at % 3]) for at, kind, _, _ in lines
                       if kind == "capacity" and used.get(at, 0) < 5000}
        idle = set(rows(con, "select day, billing_currency from marts.allocated_cost where cost_kind = 'idle' "
                             "and team = '__idle__'"))
        assert expect_idle <= idle
    finally:
        con.close()
