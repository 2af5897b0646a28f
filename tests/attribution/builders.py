"""Tiny hand-made warehouses for attribution tests: rows go straight into raw.*, then the real build runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

import duckdb

from costwarden import reference, warehouse
from costwarden.config import Settings

_ids = count()
ACCOUNT = "111122223333"
ATTRIBUTION_AUDITS = {"allocated_equals_billed", "no_bill_line_allocated_twice", "no_request_priced_twice"}


def new_warehouse(path: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(path)
    con.execute("SET TimeZone = 'UTC'")
    warehouse.apply_schema(con)
    return con


def add_request(con, occurred_at: datetime, model="amazon.nova-lite-v1:0", team="search", agent="bot",
                input_tokens=1000, output_tokens=100, cache_read=0, cache_write=0, region="us-east-1",
                model_id=None, latency_ms=1000.0, request_id=None, service_tier="standard",
                provider="aws.bedrock") -> str:
    request_id = request_id or f"req-{next(_ids):06d}"
    con.execute(
        "insert into raw.inference_requests (source_format, request_id, occurred_at, agent, team, department, "
        "environment, region, account_id, provider, model_id, model, input_tokens, output_tokens, "
        "cache_read_tokens, cache_write_tokens, latency_ms, status, service_tier, _load_id, _source_object) "
        "values ('bedrock', ?, ?, ?, ?, ?, 'prod', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'success', ?, 'test', 'test')",
        [request_id, occurred_at, agent, team, f"dept-{team}", region, ACCOUNT, provider, model_id or model, model,
         input_tokens, output_tokens, cache_read, cache_write, latency_ms, service_tier])
    return request_id


def add_line(con, start: datetime, billed, effective=None, usage_type="USE1-NovaLite-input-tokens",
             service_code="AmazonBedrock", charge_category="Usage", currency="USD", resource_id="",
             hours: int = 1, tags: dict | None = None, region="us-east-1") -> None:
    billed = Decimal(str(billed))
    effective = billed if effective is None else Decimal(str(effective))
    con.execute(
        "insert into raw.cost_lines (source_format, dataset, billing_period, charge_period_start, "
        "charge_period_end, sub_account_id, charge_category, service_code, service_name, region_id, resource_id, "
        "usage_type, billed_cost, effective_cost, billing_currency, tags, _load_id, _source_object, _source_row) "
        "values ('cur2', 'test', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'test', 'bill.parquet', ?)",
        [start.date().replace(day=1), start, start + timedelta(hours=hours), ACCOUNT, charge_category, service_code,
         service_code, region, resource_id, usage_type, billed, effective, currency, tags or {}, next(_ids)])


def build(con, capacity=(), shared_costs=(), org_rules=()) -> list:
    """Refresh ref (optionally with capacity / shared rules), build every model, return failing audits."""
    settings = Settings(org_rules=list(org_rules))
    reference.refresh(con, settings)
    reference.refresh_attribution(con, settings, list(capacity), list(shared_costs))
    warehouse.build(con)
    # Rows are inserted without a meta.billing_periods delivery, so only the attribution audits apply here.
    return [a for a in warehouse.run_audits(con) if a.failing_rows and a.name in ATTRIBUTION_AUDITS]


def rows(con, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()
