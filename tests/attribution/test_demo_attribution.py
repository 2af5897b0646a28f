"""Attribution on the tiny demo company: every audit passes and allocated cost per day equals the bill."""

from __future__ import annotations

import contextlib
import io

import duckdb
import pytest

from costwarden import reference, warehouse
from costwarden.cli import main as cli_main
from costwarden.config import load_settings
from models.attribution import CapacityRule, SharedCostRule

TINY = ("--days", "10", "--scale", "0.02", "--seed", "7", "--no-dashboard", "--no-analysis")
CAPACITY = [
    CapacityRule(name="moderation-pt", resource_id="arn:aws:bedrock:*:provisioned-model/*",
                 serves_model="arn:aws:bedrock:*:provisioned-model/*", capacity_per_hour=200_000),
    CapacityRule(name="ticket-router", resource_id="*:endpoint/ticket-router-prod", split_by="busy_time",
                 capacity_per_hour=3600, idle_policy="owner", owner_team="support-automation",
                 owner_department="customer-operations"),
]
SHARED = [SharedCostRule(name="support", match="service_code", pattern="AWSSupport*", method="even"),
          SharedCostRule(name="tax", match="charge_category", pattern="Tax", method="proportional")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The tiny demo built once with capacity and shared-cost rules (module-wide: it takes seconds)."""
    root = tmp_path_factory.mktemp("attribution-demo")
    path, folder = str(root / "acme.duckdb"), root / "company"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["--warehouse", path, "demo", "--local", str(folder), *TINY]) == 0
    settings = load_settings(str(folder / "costwarden.demo.toml"), environ={})
    con = duckdb.connect(path)
    con.execute("SET TimeZone = 'UTC'")
    reference.refresh(con, settings)
    reference.refresh_attribution(con, settings, CAPACITY, SHARED)
    warehouse.build(con)
    yield con
    con.close()


def test_every_audit_passes(demo):
    failing = [(a.name, a.sample) for a in warehouse.run_audits(demo) if a.failing_rows]
    assert failing == []


def test_allocated_cost_per_day_equals_the_bill_exactly(demo):
    diff = demo.execute("""
        select b.day, b.billed, a.billed, b.effective, a.effective
        from (select charge_date as day, sum(billed_cost) as billed, sum(effective_cost) as effective
              from staging.stg_cost_lines group by 1) b
        full join (select day, sum(billed_cost) as billed, sum(effective_cost) as effective
                   from marts.allocated_cost where cost_kind <> 'estimated_unbilled' group by 1) a using (day)
        where a.billed is distinct from b.billed or a.effective is distinct from b.effective""").fetchall()
    assert diff == []


def test_demo_capacity_idle_and_unbilled_requests_show_up(demo):
    kinds = dict(demo.execute("select cost_kind, sum(billed_cost) from marts.allocated_cost group by 1").fetchall())
    assert {"tokens", "capacity", "idle", "direct", "shared_overhead", "estimated_unbilled"} <= set(kinds)
    # content-moderator's provisioned unit is mostly idle at scale 0.02: idle dwarfs its used share
    assert kinds["idle"] > kinds["capacity"] > 0
    # OpenAI traffic through the gateway has no AWS bill line: estimated, never billed
    unbilled = demo.execute("select count(*) from marts.allocated_cost where cost_kind = 'estimated_unbilled' "
                            "and model not like 'gpt-4o%'").fetchone()[0]
    assert unbilled == 0


def test_token_bill_reconciles_to_the_estimate_in_the_demo(demo):
    # The demo bills tokens at the price book's own prices, so the estimate equals the bill group by group.
    variance = demo.execute("select count(*), max(abs(variance)) from marts.reconciliation "
                            "where coverage = 'matched'").fetchone()
    assert variance[0] > 0 and variance[1] == 0
