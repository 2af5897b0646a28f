"""The only dashboard module that queries: read-only DuckDB access returning pandas frames.

Every page asks this module; later, scope enforcement (team leads see only their departments) and the audit log
hook in here, in one place.
"""

from __future__ import annotations

import os

import duckdb
import pandas as pd


def warehouse_path() -> str:
    return os.environ.get("COSTWARDEN_WAREHOUSE", "costwarden.duckdb")


def _query(sql: str, params: list | None = None) -> pd.DataFrame:
    con = duckdb.connect(warehouse_path(), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def billed_by_period() -> pd.DataFrame:
    return _query("""
        select billing_period, billing_currency, service_category,
               sum(billed_cost) as billed_cost, sum(effective_cost) as effective_cost, count(*) as lines
        from raw.cost_lines group by all order by billing_period, service_category""")


def requests_by_day() -> pd.DataFrame:
    return _query("""
        select cast(occurred_at as date) as day, provider, model, count(*) as requests,
               sum(input_tokens + cache_read_tokens + cache_write_tokens) as input_tokens,
               sum(output_tokens) as output_tokens
        from raw.inference_requests group by all order by day""")


def recent_loads(limit: int = 50) -> pd.DataFrame:
    return _query("""
        select started_at, status, format, coalesce(source_name, source_uri) as source, files_seen, files_failed,
               rows_read, rows_loaded, rows_quarantined, rows_skipped, rows_unpriced, message
        from meta.loads order by started_at desc limit ?""", [limit])


def quarantine_summary() -> pd.DataFrame:
    return _query("""
        select format, reason, field, count(*) as rows, min(object_uri) as example_object, min(line_no) as example_line
        from meta.quarantine group by all order by rows desc""")


def data_as_of() -> pd.DataFrame:
    return _query("""
        select (select max(occurred_at) from raw.inference_requests) as requests_until,
               (select max(charge_period_end) from raw.cost_lines) as bill_until,
               (select max(finished_at) from meta.loads where status = 'ok') as last_load""")


def delivery_failures(limit: int = 100) -> pd.DataFrame:
    """Alert messages that failed for good, or are still retrying after a failure (never the webhook URL)."""
    try:
        return _query("""
            select created_at, subscription, channel, recipient, status, attempts, last_error from alerts.outbox
            where status = 'failed_permanent' or (status = 'pending' and attempts > 0)
            order by created_at desc limit ?""", [limit])
    except duckdb.CatalogException:  # a warehouse from before alerts existed
        return pd.DataFrame()
