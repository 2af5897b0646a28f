"""Attribution on tiny hand-made warehouses: exact apportionment, bills without requests, requests without bills,
idle capacity policies and shared-overhead methods."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from costwarden.config import OrgRule
from models.attribution import CapacityRule, SharedCostRule
from tests.attribution.builders import add_line, add_request, build, new_warehouse, rows

HOUR = datetime(2026, 10, 5, 10)
PT_ARN = "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/pt1"


@pytest.fixture
def con(tmp_path):
    connection = new_warehouse(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def _by_team(con, kind):
    return dict(rows(con, "select team, sum(billed_cost) from marts.allocated_cost where cost_kind = ? group by 1",
                     [kind]))


def test_token_bill_is_apportioned_exactly_by_estimate(con):
    for tokens, team in ((1000, "a"), (1000, "b"), (1000, "c")):
        add_request(con, HOUR.replace(minute=5), team=team, input_tokens=tokens)
    add_line(con, HOUR, "0.0000000010", effective="0.0000000007")    # 10 and 7 units over three equal claims
    assert build(con) == []
    billed = _by_team(con, "tokens")
    assert sum(billed.values()) == Decimal("0.0000000010")
    assert sorted(billed.values()) == [Decimal("0.0000000003"), Decimal("0.0000000003"), Decimal("0.0000000004")]
    # ties break by claim key: the first request id gets the leftover unit
    assert billed["a"] == Decimal("0.0000000004")
    effective = rows(con, "select sum(effective_cost) from marts.allocated_cost where cost_kind = 'tokens'")[0][0]
    assert effective == Decimal("0.0000000007")


def test_uneven_bill_keeps_proportions_and_the_exact_total(con):
    add_request(con, HOUR, team="big", input_tokens=3_000_000)
    add_request(con, HOUR, team="small", input_tokens=1_000_000)
    add_line(con, HOUR, "1.0000000001")
    assert build(con) == []
    billed = _by_team(con, "tokens")
    assert billed == {"big": Decimal("0.7500000001"), "small": Decimal("0.2500000000")}
    variance = rows(con, "select estimate, billed_cost, coverage from marts.reconciliation")
    assert variance[0][1] == Decimal("1.0000000001") and variance[0][2] == "matched"


def test_request_cost_is_priced_exactly_per_token_type(con):
    add_request(con, HOUR, input_tokens=1_234_567, output_tokens=7, cache_read=3)
    assert build(con) == []
    priced = rows(con, "select t.token_type, t.tokens, t.usd_per_million, t.estimated_cost "
                       "from intermediate.int_request_tokens t where tokens > 0 order by 1")
    for token_type, tokens, per_million, cost in priced:
        assert cost == (Decimal(tokens) * per_million / Decimal(1_000_000)).quantize(Decimal("1e-10")), token_type
    total = rows(con, "select estimated_cost, price_status from intermediate.int_requests_priced")[0]
    assert total == (sum(p[3] for p in priced), "priced")


def test_bill_without_requests_is_unallocated(con):
    add_line(con, HOUR, "2.5")
    assert build(con) == []
    got = rows(con, "select team, department, cost_kind, billed_cost from marts.allocated_cost")
    assert got == [("__unallocated__", "__unallocated__", "unallocated", Decimal("2.5000000000"))]
    assert rows(con, "select reason from intermediate.int_genai_allocated")[0][0] == "no matching requests"


def test_requests_without_bill_are_estimated_unbilled_and_not_billed(con):
    add_request(con, datetime(2026, 10, 6, 3), input_tokens=1_000_000)
    add_line(con, HOUR, "1")                       # the bill stops the day before
    assert build(con) == []
    got = rows(con, "select day, cost_kind, billed_cost, estimated_cost > 0, requests from marts.allocated_cost "
                    "order by day")
    assert got[1][:3] == (datetime(2026, 10, 6).date(), "estimated_unbilled", Decimal(0)) and got[1][3:] == (True, 1)
    assert got[0][1] == "unallocated"


def _provisioned_hour(con, policy, used_tokens):
    if used_tokens:
        add_request(con, HOUR.replace(minute=1), team="moderation", model_id=PT_ARN, model=PT_ARN,
                    input_tokens=used_tokens, output_tokens=0)
    add_line(con, HOUR, "3.5", usage_type="USE1-ProvisionedThroughput-NovaLite-NoCommit", resource_id=PT_ARN)
    rule = CapacityRule(name="pt", resource_id=PT_ARN, serves_model="*provisioned-model/pt1",
                        capacity_per_hour=1000, idle_policy=policy, owner_team="owners", owner_department="eng")
    assert build(con, capacity=[rule]) == []
    return rows(con, "select team, cost_kind, billed_cost from marts.allocated_cost order by all")


@pytest.mark.parametrize("policy, expected", [
    ("central", [("__idle__", "idle", Decimal("2.625")), ("moderation", "capacity", Decimal("0.875"))]),
    ("proportional", [("moderation", "capacity", Decimal("3.5"))]),
    ("owner", [("moderation", "capacity", Decimal("0.875")), ("owners", "idle", Decimal("2.625"))]),
])
def test_idle_capacity_follows_the_policy(con, policy, expected):
    assert _provisioned_hour(con, policy, used_tokens=250) == expected


def test_overused_capacity_has_no_idle_and_unused_hour_goes_to_idle(con):
    assert _provisioned_hour(con, "central", used_tokens=5000) == [("moderation", "capacity", Decimal("3.5"))]


def test_unconfigured_capacity_is_unallocated(con):
    add_line(con, HOUR, "3.5", usage_type="USE1-ProvisionedThroughput-NovaLite-NoCommit", resource_id=PT_ARN)
    assert build(con) == []
    assert rows(con, "select team, reason from intermediate.int_genai_allocated") == [
        ("__unallocated__", "capacity resource not configured")]


def _overhead(con, rule):
    add_request(con, HOUR, team="a", input_tokens=3_000_000)
    add_request(con, HOUR, team="b", input_tokens=1_000_000)
    add_line(con, HOUR, "4")
    add_line(con, HOUR, "1.0000000001", usage_type="Dollar", service_code="AWSSupportBusiness",
             charge_category="Purchase")
    add_line(con, HOUR, "0.3", usage_type="TimedStorage-ByteHrs", service_code="AmazonS3")
    add_line(con, HOUR, "0.2", usage_type="TimedStorage-ByteHrs", service_code="AmazonS3", tags={"team": "b"})
    tag_rule = OrgRule(match="tag", key="team", pattern="b", team="b", department="dept-b")
    assert build(con, shared_costs=[rule] if rule else [], org_rules=[tag_rule]) == []
    shared = _by_team(con, "shared_overhead")
    assert _by_team(con, "direct") == {"b": Decimal("0.2")}     # tagged non-GenAI lines go straight to the team
    return shared


@pytest.mark.parametrize("rule, expected", [
    (SharedCostRule(name="support", match="service_code", pattern="AWSSupport*", method="proportional"),
     {"a": Decimal("0.7500000001"), "b": Decimal("0.25"), "__shared__": Decimal("0.3")}),
    (SharedCostRule(name="support", match="service_code", pattern="AWSSupport*", method="even"),
     {"a": Decimal("0.5000000001"), "b": Decimal("0.5"), "__shared__": Decimal("0.3")}),
    (SharedCostRule(name="support", match="service_code", pattern="AWSSupport*", method="fixed",
                    fixed_shares={"a": Decimal(10), "c": Decimal(90)}),
     {"a": Decimal("0.1"), "c": Decimal("0.9000000001"), "__shared__": Decimal("0.3")}),
    (None, {"__shared__": Decimal("1.3000000001")}),
])
def test_shared_overhead_methods(con, rule, expected):
    assert _overhead(con, rule) == expected


def test_fixed_shares_must_add_up_to_100():
    with pytest.raises(ValueError, match="adding up to 100"):
        SharedCostRule(name="x", match="service_code", pattern="*", method="fixed", fixed_shares={"a": 50})
