"""Org mapping in the staging views: [[org_rules]] precedence, every match kind, glob escaping and fallbacks."""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb

from costwarden import db, reference
from costwarden.build import build_warehouse
from costwarden.config import load_settings
from costwarden.warehouse import build, run_audits
from ingest import runner
from ingest.identity import hash_identity, hash_salt
from tests.factories import bedrock_key, bedrock_record

WHEN = datetime(2025, 6, 1, 9, tzinfo=timezone.utc)
ACCOUNT = "111122223333"


def _caller(role: str, session: str) -> dict:
    return {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"}


def _request(name: str, *, role: str = "search-app", session: str = "svc", metadata: dict | None = None,
             account: str = ACCOUNT) -> dict:
    meta = {"team": "search", "agent": "answer-bot"} if metadata is None else metadata
    return bedrock_record(zlib.crc32(name.encode()) % 10_000, WHEN, account=account, requestId=name,
                          identity=_caller(role, session), requestMetadata=meta)


def _settings(tmp_path: Path, rules: str):
    config = tmp_path / "costwarden.toml"
    config.write_text(rules, encoding="utf-8")
    return load_settings(config, environ={})


def _ingest(tmp_path: Path, warehouse: str, rules: str, records: list[dict]):
    settings = _settings(tmp_path, rules)
    path = tmp_path / "logs" / bedrock_key(ACCOUNT, "us-east-1", WHEN, "0001")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(json.dumps(r) for r in records) + "\n").encode()))
    report = runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    assert report.counts.rows_loaded == len(records)
    return settings


def _org(warehouse: str, view: str = "staging.stg_inference_requests", key: str = "request_id") -> dict:
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return {row[0]: row[1:] for row in con.execute(
            f"select {key}, team, department, environment from {view}").fetchall()}
    finally:
        con.close()


def _mapped(tmp_path, warehouse, rules: str, records: list[dict]) -> dict:
    settings = _ingest(tmp_path, warehouse, rules, records)
    report = build_warehouse(settings, warehouse)
    assert report.ok, report.summary()
    return _org(warehouse)


def test_lowest_priority_number_wins_and_config_order_breaks_ties(tmp_path, warehouse):
    rules = f"""
[[org_rules]]
match = "iam_role"
pattern = "arn:aws:iam::*:role/search-app"
team = "by-role"
priority = 50

[[org_rules]]
match = "account"
pattern = "{ACCOUNT}"
team = "by-account"
priority = 10

[[org_rules]]
match = "agent"
pattern = "answer-*"
team = "by-agent-same-priority-later"
priority = 10
"""
    org = _mapped(tmp_path, warehouse, rules, [_request("a"), _request("b", account="999988887777")])
    assert org["a"][0] == "by-account"
    assert org["b"][0] == "by-agent-same-priority-later"   # the account rule does not match b


def test_each_attribute_comes_from_the_first_rule_that_sets_it(tmp_path, warehouse):
    rules = f"""
[[org_rules]]
match = "account"
pattern = "{ACCOUNT}"
environment = "prod"
priority = 1

[[org_rules]]
match = "iam_role"
pattern = "*:role/search-app"
team = "search-platform"
department = "engineering"
priority = 2
"""
    org = _mapped(tmp_path, warehouse, rules, [_request("a")])
    assert org["a"] == ("search-platform", "engineering", "prod")


def test_principal_rule_matches_the_salted_hash_and_the_warehouse_keeps_no_identity(tmp_path, warehouse, monkeypatch):
    monkeypatch.setenv("COSTWARDEN_HASH_SALT", "test-pepper")
    alice = f"arn:aws:sts::{ACCOUNT}:assumed-role/search-app/alice@acme.example"
    rules = f"""
[[org_rules]]
match = "principal"
pattern = "{alice}"
team = "alice-team"
"""
    org = _mapped(tmp_path, warehouse, rules, [_request("alice", session="alice@acme.example"),
                                               _request("bob", session="bob@acme.example")])
    assert org["alice"][0] == "alice-team"
    assert org["bob"][0] == "search"          # the request's own team: no rule matched
    con = duckdb.connect(warehouse, read_only=True)
    try:
        stored = con.execute("select pattern, pattern_hash from ref.org_rules").fetchall()
        assert stored == [(hash_identity(alice, "test-pepper"),) * 2]
        assert "acme.example" not in str(con.execute("select list(r) from ref.org_rules r").fetchone())
    finally:
        con.close()


def test_api_key_rule_matches_the_hashed_key(tmp_path, warehouse):
    settings = _settings(tmp_path, """
[[org_rules]]
match = "api_key"
pattern = "sk-live-checkout-0001"
team = "checkout"
department = "commerce"
""")
    salt = hash_salt(settings.hash_salt_env)
    con = db.connect(warehouse)
    try:
        reference.refresh(con, settings)
        # No request-log format in this test carries an API key, so the requests are written as an ingestor would.
        con.executemany(
            "insert into raw.inference_requests (source_format, request_id, occurred_at, api_key_hash, provider, "
            "model_id, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, status, _load_id, "
            "_source_object) values ('generic', ?, '2025-06-01 10:00:00', ?, 'openai', 'gpt-4o-mini', "
            "'gpt-4o-mini', 10, 5, 0, 0, 'success', 'test', 'test.csv')",
            [["k1", hash_identity("sk-live-checkout-0001", salt)], ["k2", hash_identity("sk-other", salt)]])
        build(con)
        rows = dict(con.execute("select request_id, team || '/' || department "
                                "from staging.stg_inference_requests").fetchall())
    finally:
        con.close()
    assert rows == {"k1": "checkout/commerce", "k2": "__unmapped__/__unmapped__"}


def test_iam_role_metadata_agent_and_application_rules(tmp_path, warehouse):
    rules = """
[[org_rules]]
match = "iam_role"
pattern = "arn:aws:iam::*:role/billing-*"
team = "billing"

[[org_rules]]
match = "metadata"
key = "cost_center"
pattern = "CC-4?"
team = "finance"

[[org_rules]]
match = "agent"
pattern = "triage-*"
team = "support"

[[org_rules]]
match = "application"
pattern = "checkout"
team = "commerce"
"""
    org = _mapped(tmp_path, warehouse, rules, [
        _request("role", role="billing-worker", metadata={}),
        _request("meta", role="x", metadata={"cost_center": "CC-42"}),
        _request("meta-miss", role="x", metadata={"cost_center": "CC-420"}),
        _request("agent", role="x", metadata={"agent": "triage-bot"}),
        _request("app", role="x", metadata={"application": "checkout"}),
    ])
    assert {name: values[0] for name, values in org.items()} == {
        "role": "billing", "meta": "finance", "meta-miss": "__unmapped__", "agent": "support", "app": "commerce"}


def test_underscore_and_percent_in_a_glob_are_literal(tmp_path, warehouse):
    rules = """
[[org_rules]]
match = "metadata"
key = "project"
pattern = "proj_1*"
team = "underscore"

[[org_rules]]
match = "metadata"
key = "project"
pattern = "50%off"
team = "percent"
"""
    org = _mapped(tmp_path, warehouse, rules, [
        _request(name, role="x", metadata={"project": project})
        for name, project in [("exact", "proj_1"), ("longer", "proj_12"), ("not-underscore", "projX1"),
                              ("pct", "50%off"), ("not-pct", "50 percent off")]])
    assert {name: values[0] for name, values in org.items()} == {
        "exact": "underscore", "longer": "underscore", "not-underscore": "__unmapped__",
        "pct": "percent", "not-pct": "__unmapped__"}


def test_unmatched_requests_keep_their_own_team_else_are_unmapped_never_null_or_dropped(tmp_path, warehouse):
    settings = _ingest(tmp_path, warehouse, "", [
        _request("own", metadata={"team": "search", "environment": "dev"}),
        _request("none", metadata={}),
    ])
    report = build_warehouse(settings, warehouse)
    assert report.ok, report.summary()
    assert _org(warehouse) == {"own": ("search", "__unmapped__", "dev"),
                               "none": ("__unmapped__", "__unmapped__", "__unmapped__")}
    con = duckdb.connect(warehouse, read_only=True)
    try:
        sources = dict(con.execute("select request_id, team_source from staging.stg_inference_requests").fetchall())
        assert sources == {"own": "request", "none": "unmapped"}
    finally:
        con.close()


def _insert_cost_line(con, row: int, *, account: str, tags: dict, service_code: str, usage_type: str = "") -> None:
    con.execute(
        "insert into raw.cost_lines (source_format, dataset, billing_period, charge_period_start, sub_account_id, "
        "charge_category, service_code, usage_type, billed_cost, effective_cost, billing_currency, tags, _load_id, "
        "_source_object, _source_row) values ('focus', 'export', '2025-06-01', '2025-06-03 00:00:00', ?, 'Usage', "
        "?, ?, ?, ?, 'USD', map(?::varchar[], ?::varchar[]), 'test', 'part-0.parquet', ?)",
        [account, service_code, usage_type, Decimal("1.25"), Decimal("1.25"), list(tags), list(tags.values()), row])


def test_cost_lines_map_by_tag_then_account_and_flag_gen_ai_spend(tmp_path, warehouse):
    settings = _settings(tmp_path, f"""
[[org_rules]]
match = "tag"
key = "user_team"
pattern = "ml-*"
team = "ml-platform"
priority = 10

[[org_rules]]
match = "account"
pattern = "{ACCOUNT}"
team = "shared-services"
department = "platform"
priority = 20
""")
    con = db.connect(warehouse)
    try:
        reference.refresh(con, settings)
        _insert_cost_line(con, 1, account=ACCOUNT, tags={"user_team": "ml-research"}, service_code="AmazonBedrock")
        _insert_cost_line(con, 2, account=ACCOUNT, tags={}, service_code="AmazonEC2",
                          usage_type="USW2-BoxUsage:p4d.24xlarge")
        _insert_cost_line(con, 3, account="444455556666", tags={"user_team": "web"}, service_code="AmazonEC2",
                          usage_type="BoxUsage:m5.large")
        build(con)
        rows = {r[0]: r[1:] for r in con.execute(
            "select _source_row, team, department, is_genai, charge_date from staging.stg_cost_lines").fetchall()}
        audits = {a.name: a.failing_rows for a in run_audits(con)}
    finally:
        con.close()
    june_3 = datetime(2025, 6, 3).date()
    assert rows == {1: ("ml-platform", "platform", True, june_3),
                    2: ("shared-services", "platform", True, june_3),
                    3: ("__unmapped__", "__unmapped__", False, june_3)}
    assert audits["no_unmapped_null"] == 0
