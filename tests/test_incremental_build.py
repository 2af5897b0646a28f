"""Incremental build by day: after new loads, price changes, org-rule changes or `reprice --from`, the build
recomputes only the affected days, and what it leaves behind equals a full rebuild of the same inputs exactly."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from costwarden.build import build_warehouse
from costwarden.config import BuildSettings, OrgRule, PriceOverride, Settings
from costwarden.errors import WarehouseError
from models.attribution.settings import CapacityRule, SharedCostRule
from tests.attribution.builders import add_line, add_request, new_warehouse

# Every relation an incremental build writes day by day, and the marts built on them.
COMPARED = ("marts.allocated_cost", "marts.reconciliation", "intermediate.int_requests_priced",
            "intermediate.int_cost_line_routes", "intermediate.int_genai_claims", "intermediate.int_genai_allocated",
            "intermediate.int_unbilled_tokens", "intermediate.int_allocated_daily", "intermediate.int_team_days",
            "intermediate.int_shared_allocated", "intermediate.int_request_costs",
            "intermediate.int_chargeback_lines", "marts.chargeback_live")

CAPACITY = CapacityRule(name="pt", resource_id="arn:aws:bedrock:*:provisioned-model/pt",
                        serves_model="arn:aws:bedrock:*:provisioned-model/pt", capacity_per_hour=Decimal(100000))
SHARED = SharedCostRule(name="tax", match="charge_category", pattern="Tax", method="proportional")
PT_ARN = "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/pt"


def snapshot(path: str, relations=COMPARED) -> dict[str, list[tuple]]:
    con = duckdb.connect(path, read_only=True)
    try:
        return {r: con.execute(f"select * from {r} order by all").fetchall() for r in relations}
    finally:
        con.close()


def full_rebuild_of(path: str, settings: Settings, tmp_path) -> dict[str, list[tuple]]:
    """The same inputs built from scratch in a copy (a fresh full build, build state ignored)."""
    copy = str(tmp_path / "full-copy.duckdb")
    shutil.copyfile(path, copy)
    build_ok(settings, copy, full=True)
    return snapshot(copy)


def assert_same_as_full(path: str, settings: Settings, tmp_path) -> None:
    incremental, full = snapshot(path), full_rebuild_of(path, settings, tmp_path)
    for relation in COMPARED:
        assert incremental[relation] == full[relation], relation


def day_of(d: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, d, hour)


def seed_days(path: str, days=(1, 2, 3)) -> None:
    con = new_warehouse(path)
    for d in days:
        add_day(con, d)
    con.close()


def add_day(con, d: int, agent: str = "bot") -> None:
    """A day of on-demand requests with their hourly bill line, provisioned use with its resource-hour, a request the
    bill does not cover yet, and the month's tax line on the 1st."""
    add_request(con, day_of(d), team="search", agent=agent, input_tokens=1000 * d)
    add_request(con, day_of(d, 10), team="ads", agent="helper", input_tokens=300)
    add_line(con, day_of(d), 0.25 * d, usage_type="USE1-NovaLite-input-tokens")
    add_line(con, day_of(d), 0.05, usage_type="USE1-NovaLite-output-tokens")
    add_request(con, day_of(d, 11), team="ads", model_id=PT_ARN, input_tokens=20000)
    add_line(con, day_of(d, 11), 12.5, usage_type="USE1-ProvisionedThroughput", resource_id=PT_ARN)
    add_request(con, day_of(d, 15), team="search", model="anthropic.claude-3-haiku-20240307-v1:0")
    if d == 1:
        add_line(con, day_of(1, 0), 9.99, charge_category="Tax", service_code="AWSTax", hours=24 * 31)


def settings_with(**extra) -> Settings:
    return Settings(capacity=[CAPACITY], shared_costs=[SHARED], **extra)


def last_plan(path: str) -> tuple:
    con = duckdb.connect(path, read_only=True)
    try:
        return con.execute("select mode, days_rebuilt, first_day, last_day, reason from meta.build_runs "
                           "order by finished_at desc limit 1").fetchone()
    finally:
        con.close()


def build_ok(settings: Settings, path: str, **kwargs):
    report = build_warehouse(settings, path, **kwargs)
    failing = [a.name for a in report.audits if a.failing_rows and a.name != "cost_lines_match_billing_periods"]
    assert not failing, report.summary()
    return report


def test_first_build_is_full_and_an_unchanged_rebuild_recomputes_nothing(tmp_path):
    path = str(tmp_path / "w.duckdb")
    seed_days(path)
    settings = settings_with()
    first = build_ok(settings, path)
    assert first.plan.mode == "full" and first.plan.reason == "no earlier build"
    before = snapshot(path)
    again = build_ok(settings, path)
    assert again.plan.mode == "incremental" and again.plan.days == []
    assert snapshot(path) == before     # byte-identical: nothing recomputed, shared overhead recreated the same


def test_full_rebuild_twice_gives_identical_marts(tmp_path):
    path = str(tmp_path / "w.duckdb")
    seed_days(path)
    settings = settings_with()
    build_ok(settings, path, full=True)
    first = snapshot(path)
    build_ok(settings, path, full=True)
    assert snapshot(path) == first


def test_new_day_rebuilds_only_that_day_and_equals_a_full_build(tmp_path):
    path = str(tmp_path / "w.duckdb")
    seed_days(path)
    settings = settings_with()
    build_ok(settings, path)
    con = duckdb.connect(path)
    add_day(con, 4)
    con.close()
    report = build_ok(settings, path)
    assert report.plan.mode == "incremental"
    assert report.plan.days == [date(2026, 3, 4)]
    assert_same_as_full(path, settings, tmp_path)
    # the month's tax line (charged on the 1st) is re-split with day 4's GenAI spend in it
    con = duckdb.connect(path, read_only=True)
    shared_days = con.execute("select min(day), count(*) from marts.allocated_cost "
                              "where cost_kind = 'shared_overhead'").fetchone()
    con.close()
    assert shared_days[0] == date(2026, 3, 1) and shared_days[1] >= 2


def test_price_change_for_a_past_date_reprices_from_that_date_only(tmp_path):
    path = str(tmp_path / "w.duckdb")
    seed_days(path, days=(1, 2, 3, 4))
    build_ok(settings_with(), path)
    before = snapshot(path, ("intermediate.int_requests_priced",))["intermediate.int_requests_priced"]
    cheaper = PriceOverride(provider="aws.bedrock", model="amazon.nova-lite-v1:0", token_type="input",
                            usd_per_million_tokens=Decimal("0.01"), effective_from=date(2026, 3, 3))
    settings = settings_with(prices=[cheaper])
    report = build_ok(settings, path)
    assert report.plan.mode == "incremental"
    assert report.plan.days == [date(2026, 3, 3), date(2026, 3, 4)]
    assert "price book" in report.plan.reason
    after = snapshot(path, ("intermediate.int_requests_priced",))["intermediate.int_requests_priced"]
    assert after != before
    assert_same_as_full(path, settings, tmp_path)


def test_org_rule_change_rebuilds_the_days_whose_mapping_changed(tmp_path):
    path = str(tmp_path / "w.duckdb")
    con = new_warehouse(path)
    for d in (1, 2, 3):
        add_day(con, d, agent="special" if d == 2 else "bot")
    con.close()
    build_ok(settings_with(), path)
    rule = OrgRule(match="agent", pattern="special", team="platform", department="eng")
    settings = settings_with(org_rules=[rule])
    report = build_ok(settings, path)
    assert report.plan.mode == "incremental"
    assert report.plan.days == [date(2026, 3, 2)]
    assert "org rules changed" in report.plan.reason
    con = duckdb.connect(path, read_only=True)
    teams = con.execute("select distinct team from marts.allocated_cost where day = '2026-03-02'").fetchall()
    con.close()
    assert ("platform",) in teams
    assert_same_as_full(path, settings, tmp_path)


def test_reprice_from_forces_every_later_day(tmp_path):
    path = str(tmp_path / "w.duckdb")
    seed_days(path, days=(1, 2, 3, 4))
    settings = settings_with()
    build_ok(settings, path)
    report = build_ok(settings, path, reprice_from=date(2026, 3, 3))
    assert report.plan.days == [date(2026, 3, 3), date(2026, 3, 4)]
    assert last_plan(path)[:2] == ("incremental", 2)
    assert_same_as_full(path, settings, tmp_path)


def test_multi_day_genai_line_pulls_in_every_day_it_covers(tmp_path):
    """A GenAI line billed over two days is one pot: new requests on its second day re-split it, from its first."""
    path = str(tmp_path / "w.duckdb")
    con = new_warehouse(path)
    add_request(con, day_of(1, 20), team="search", input_tokens=500)
    add_line(con, day_of(1, 0), 4.0, usage_type="USE1-NovaLite-input-tokens", hours=48)
    add_day(con, 3)
    con.close()
    settings = settings_with()
    build_ok(settings, path)
    con = duckdb.connect(path)
    add_request(con, day_of(2, 9), team="ads", input_tokens=1500)
    con.close()
    report = build_ok(settings, path)
    assert report.plan.days == [date(2026, 3, 1), date(2026, 3, 2)]
    assert_same_as_full(path, settings, tmp_path)


def test_changed_capacity_rules_force_a_full_build(tmp_path):
    path = str(tmp_path / "w.duckdb")
    seed_days(path)
    build_ok(settings_with(), path)
    report = build_ok(Settings(capacity=[CAPACITY]), path)
    assert report.plan.mode == "full" and "capacity" in report.plan.reason


def test_reprice_cli_rejects_a_bad_date_in_one_line(cli):
    code, out, err = cli("reprice", "--from", "2026-13-45")
    assert code == 2
    assert "--from '2026-13-45' is not a date" in err and "YYYY-MM-DD" in err
    assert "Traceback" not in err


def test_reprice_cli_recomputes_from_the_date(tmp_path, cli, warehouse):
    seed_days(warehouse)
    assert cli("build")[0] in (0, 1)     # the billing-period audit fails on hand-inserted lines; not this test's point
    code, out, err = cli("reprice", "--from", "2026-03-02")
    assert "incremental build" in out and "2 day(s), 2026-03-02 .. 2026-03-03" in out, out + err


@pytest.mark.slow
def test_demo_company_price_change_incremental_equals_full(demo_company, tmp_path):
    company = demo_company.copy_to(tmp_path / "acme")
    base = company.settings()
    first = build_warehouse(base, company.warehouse)
    assert first.ok, first.summary()
    con = duckdb.connect(company.warehouse, read_only=True)
    last_day = con.execute("select max(usage_date) from intermediate.int_requests_priced").fetchone()[0]
    con.close()
    change = PriceOverride(provider="aws.bedrock", model="amazon.nova-lite-v1:0", token_type="output",
                           discount_pct=Decimal(10), effective_from=last_day.replace(day=1))
    settings = base.model_copy(update={"prices": [*base.prices, change]})
    report = build_warehouse(settings, company.warehouse)
    assert report.ok, report.summary()
    assert report.plan.mode == "incremental"
    assert report.plan.days and report.plan.days[0] >= last_day.replace(day=1)
    assert_same_as_full(company.warehouse, settings, tmp_path)


def test_a_build_out_of_memory_is_one_clear_error_and_changes_nothing(tmp_path):
    """DuckDB's memory limit hit mid-build: a one-line error naming the relation and the setting, and the warehouse
    is as it was (the build is one transaction)."""
    path = str(tmp_path / "w.duckdb")
    seed_days(path)
    tight = settings_with().model_copy(update={"build": BuildSettings(memory_limit="40MB")})
    with pytest.raises(WarehouseError) as raised:
        build_warehouse(tight, path)
    message = str(raised.value)
    assert "ran out of memory" in message and "memory_limit" in message and "[build]" in message
    assert "\n" not in message and "Traceback" not in message
    con = duckdb.connect(path, read_only=True)
    try:
        assert con.execute("select count(*) from meta.build_runs").fetchone() == (0,)
    finally:
        con.close()
    build_ok(settings_with(), path)      # with the default limit the same inputs build
