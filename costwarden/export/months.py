"""Billing months as finance names them (YYYY-MM), and the checks every export and close share."""

from __future__ import annotations

import re
from datetime import date

import duckdb

from costwarden.errors import CostwardenError, UsageError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ExportError(CostwardenError):
    """An export or close cannot be done on the warehouse as it is (no data, marts older than the bill)."""


def parse_month(text: str) -> date:
    """'2026-09' -> date(2026, 9, 1); anything else is a one-line usage error naming the expected form."""
    found = _MONTH.match(text.strip()) if text else None
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise UsageError(f"month {text!r} is not a billing month: write it as YYYY-MM, e.g. 2026-09.")
    return date(int(found.group(1)), int(found.group(2)), 1)


def label(month: date) -> str:
    return f"{month:%Y-%m}"


def require_built(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    schema, name = relation.split(".")
    found = con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                        [schema, name]).fetchone()[0]
    if not found:
        raise ExportError(f"{relation} does not exist in this warehouse yet: run `costwarden build` first.")


def billed_months(con: duckdb.DuckDBPyConnection) -> list[date]:
    return [row[0] for row in con.execute(
        "select distinct billing_period from raw.cost_lines order by 1").fetchall()]


def months_hint(con: duckdb.DuckDBPyConnection) -> str:
    months = billed_months(con)
    if not months:
        return "the warehouse has no billing data (run `costwarden ingest` on a CUR or FOCUS export)"
    return f"the bill has months {label(months[0])} .. {label(months[-1])}"


def check_live_matches_bill(con: duckdb.DuckDBPyConnection, month: date, rows: str = "marts.chargeback") -> None:
    """The live chargeback of a month must add up to the bill of that month, per currency, to the last 1e-10.

    It differs only when raw.cost_lines changed after the last `costwarden build` (a new delivery was ingested):
    the allocation tables are then older than the bill, and exporting or freezing them would be wrong. `rows`
    holds the month's chargeback rows of an open month (live rows plus adjustments booked into it).
    """
    found = con.execute(
        f"""
        with bill as (
            select billing_currency as currency, sum(billed_cost) as billed from raw.cost_lines
            where billing_period = ? group by 1
        ),
        live as (
            select "BillingCurrency" as currency, sum("BilledCost") as billed from {rows}
            where cast(date_trunc('month', "BillingPeriodStart") as date) = ? and "x_CostKind" <> 'adjustment'
            group by 1
        )
        select coalesce(b.currency, l.currency), b.billed, l.billed
        from bill as b full outer join live as l on l.currency = b.currency
        where b.billed is distinct from l.billed
        """, [month, month]).fetchall()
    if found:
        currency, bill, live = found[0]
        raise ExportError(
            f"the allocation of {label(month)} is older than the bill ({currency}: chargeback {live or 0} vs bill "
            f"{bill or 0}); run `costwarden build` first.")
