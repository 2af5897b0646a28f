"""`costwarden close`: freeze a month's chargeback so later restatements of the bill cannot change what finance
booked; list closed months; reopen one (an admin action, logged in ledger.close_log).

Closing copies the month's rows of marts.chargeback (its live allocation plus adjustments booked into it) into
ledger.chargeback_snapshots, in one transaction with the ledger.closed_months row and the log entry. From then on
marts.chargeback serves the frozen rows for that month, and any restatement becomes an adjustment in the next open
month (sql/marts/chargeback.sql).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import date, datetime, timezone

from costwarden import db
from costwarden.config import Settings
from costwarden.errors import UsageError
from costwarden.export.months import (ExportError, check_live_matches_bill, label, months_hint, parse_month,
                                      require_built)

_MONTH_OF_ROW = """cast(date_trunc('month', "BillingPeriodStart") as date)"""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def actor(explicit: str | None) -> str:
    """Who is closing: --by, else COSTWARDEN_USER, else the login name."""
    if explicit and explicit.strip():
        return explicit.strip()
    try:
        return os.environ.get("COSTWARDEN_USER") or getpass.getuser()
    except Exception:   # no login name (some containers): say so rather than fail
        return "unknown"


@dataclass
class LedgerReport:
    lines: list[str]

    def summary(self) -> str:
        return "\n".join(self.lines)


def run_close(settings: Settings, warehouse: str, month_text: str | None, *, list_only: bool = False,
              reopen: bool = False, reason: str | None = None, by: str | None = None,
              note: str | None = None) -> LedgerReport:
    """`costwarden close`: list, reopen (with a reason) or close, as the flags say."""
    if list_only:
        return list_closed(settings, warehouse)
    if not month_text:
        raise UsageError("name the month to close (costwarden close 2026-09) or use --list.")
    if reopen:
        return reopen_month(settings, warehouse, month_text, reason, by)
    return close_month(settings, warehouse, month_text, by, note)


def close_month(settings: Settings, warehouse: str, month_text: str, by: str | None = None,
                note: str | None = None) -> LedgerReport:
    month = parse_month(month_text)
    who = actor(by)
    con = db.connect(warehouse)
    try:
        require_built(con, "marts.chargeback")
        if _is_closed(con, month):
            raise ExportError(f"{label(month)} is already closed; `costwarden close --list` shows when and by whom.")
        con.execute(f"create temp table close_rows as select * from marts.chargeback where {_MONTH_OF_ROW} = ?",
                    [month])
        rows, billed, effective = con.execute(
            'select count(*), sum("BilledCost"), sum("EffectiveCost") from close_rows').fetchone()
        if not rows:
            raise ExportError(f"no chargeback for {label(month)} to close: {months_hint(con)}.")
        check_live_matches_bill(con, month, "temp.close_rows")
        at = _now()
        with db.transaction(con):
            con.execute('insert into ledger.chargeback_snapshots select * replace (cast(? as timestamp) as '
                        '"x_ClosedAt") from close_rows', [at])
            con.execute("insert into ledger.closed_months values (?, ?, ?, ?, ?, ?, ?)",
                        [month, at, who, billed, effective, rows, note])
            con.execute("insert into ledger.close_log values (?, 'close', ?, ?, ?, ?, ?)",
                        [at, month, who, note, billed, rows])
    finally:
        con.close()
    return LedgerReport([f"closed {label(month)}: froze {rows:,} chargeback rows, billed {billed:,.10f} "
                         f"(by {who} at {at:%Y-%m-%d %H:%M:%S} UTC). Later restatements of {label(month)} become "
                         "adjustments in the next open month."])


def list_closed(settings: Settings, warehouse: str) -> LedgerReport:
    con = db.connect(warehouse, read_only=True)
    try:
        rows = con.execute("select billing_period, closed_at, closed_by, billed_cost, row_count, note "
                           "from ledger.closed_months order by billing_period").fetchall()
    finally:
        con.close()
    if not rows:
        return LedgerReport(["no closed months (close one with `costwarden close YYYY-MM`)"])
    return LedgerReport([f"{label(period)}  closed {at:%Y-%m-%d %H:%M:%S} UTC by {who}: {count:,} rows, billed "
                         f"{billed:,.10f}" + (f" ({note})" if note else "")
                         for period, at, who, billed, count, note in rows])


def reopen_month(settings: Settings, warehouse: str, month_text: str, reason: str | None,
                 by: str | None = None) -> LedgerReport:
    """Release a closed month back to the live allocation. Refused while a later closed month holds adjustments
    for it (those were booked on the strength of this month's snapshot: reopen that month first)."""
    month = parse_month(month_text)
    if not reason or not reason.strip():
        raise UsageError("reopening a closed month is an admin action: give the reason with --reason \"...\" "
                         "(it is kept in ledger.close_log).")
    who = actor(by)
    con = db.connect(warehouse)
    try:
        if not _is_closed(con, month):
            raise ExportError(f"{label(month)} is not closed; `costwarden close --list` shows the closed months.")
        holders = [row[0] for row in con.execute(
            f"select distinct {_MONTH_OF_ROW} from ledger.chargeback_snapshots "
            "where \"x_AdjustedBillingPeriod\" = ? order by 1", [month]).fetchall()]
        if holders:
            raise ExportError(f"{label(month)} cannot be reopened while closed month {label(holders[-1])} holds "
                              f"adjustments for it: reopen {label(holders[-1])} first.")
        billed, rows = con.execute("select billed_cost, row_count from ledger.closed_months where billing_period = ?",
                                   [month]).fetchone()
        at = _now()
        with db.transaction(con):
            con.execute(f"delete from ledger.chargeback_snapshots where {_MONTH_OF_ROW} = ?", [month])
            con.execute("delete from ledger.closed_months where billing_period = ?", [month])
            con.execute("insert into ledger.close_log values (?, 'reopen', ?, ?, ?, ?, ?)",
                        [at, month, who, reason.strip(), billed, rows])
    finally:
        con.close()
    return LedgerReport([f"reopened {label(month)} (by {who}: {reason.strip()}); its chargeback follows the live "
                         "allocation again until it is closed."])


def _is_closed(con, month: date) -> bool:
    return con.execute("select count(*) from ledger.closed_months where billing_period = ?",
                       [month]).fetchone()[0] > 0

