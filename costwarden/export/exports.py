"""`costwarden export chargeback|focus`: one month of the chargeback, or of the bill, as a FOCUS 1.2 file.

- chargeback: marts.chargeback (closed months from their frozen snapshot, open months from the live allocation,
  restatement adjustments) — FOCUS 1.2 columns plus x_Department, x_Team, x_Agent, x_Model, x_Environment,
  x_CostKind, x_AllocationMethod, x_AllocationRule, x_AllocationReason, x_AdjustedBillingPeriod, x_ClosedAt.
- focus: marts.focus_cost_lines — the billed lines as they came in (CUR, CUR 2.0 or FOCUS), FOCUS 1.2 columns plus
  x_ServiceCode, x_UsageType, x_Operation, x_LineItemType, x_SourceFormat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from costwarden import db
from costwarden.config import Settings
from costwarden.errors import UsageError
from costwarden.export import writers
from costwarden.export.months import (ExportError, check_live_matches_bill, label, months_hint, parse_month,
                                      require_built)

_SCOPES = {"department": "x_Department", "team": "x_Team"}
_MONTH_OF_ROW = """cast(date_trunc('month', "BillingPeriodStart") as date)"""


@dataclass
class ExportReport:
    kind: str
    month: date
    out: str
    rows: int
    totals: dict[str, Decimal]          # billed cost per billing currency, as written
    closed: bool = False
    scope: str | None = None

    def summary(self) -> str:
        sums = ", ".join(f"{currency} {amount:,.10f}" for currency, amount in sorted(self.totals.items()))
        state = " (closed month: frozen snapshot)" if self.closed else ""
        where = f" for {self.scope}" if self.scope else ""
        return f"wrote {self.rows:,} {self.kind} rows of {label(self.month)}{where}{state} to {self.out}: billed {sums}"


def parse_scope(text: str | None) -> tuple[str, str] | None:
    """'department=research' -> ('x_Department', 'research')."""
    if not text:
        return None
    key, sep, value = text.partition("=")
    if not sep or key.strip() not in _SCOPES or not value.strip():
        raise UsageError(f"scope {text!r} is not understood: write --scope department=NAME or --scope team=NAME.")
    return _SCOPES[key.strip()], value.strip()


def run_export(settings: Settings, warehouse: str, what: str, month_text: str, out: str,
               scope_text: str | None = None) -> ExportReport:
    """`costwarden export chargeback|focus`."""
    if what == "focus":
        if scope_text:
            raise UsageError("--scope applies to `export chargeback` only; the FOCUS export is the whole bill.")
        return export_focus(settings, warehouse, month_text, out)
    return export_chargeback(settings, warehouse, month_text, out, scope_text)


def export_chargeback(settings: Settings, warehouse: str, month_text: str, out: str,
                      scope_text: str | None = None) -> ExportReport:
    month = parse_month(month_text)
    writers.check_target(out)
    scope = parse_scope(scope_text)
    con = db.connect(warehouse, read_only=True)
    try:
        require_built(con, "marts.chargeback")
        # The chargeback view is computed once for the month; every check and the file read this temp table.
        con.execute(f"create temp table export_rows as select * from marts.chargeback where {_MONTH_OF_ROW} = ?",
                    [month])
        closed = con.execute("select count(*) from ledger.closed_months where billing_period = ?",
                             [month]).fetchone()[0] > 0
        if not closed:
            check_live_matches_bill(con, month, "temp.export_rows")
        if not con.execute("select count(*) from export_rows").fetchone()[0]:
            raise ExportError(f"no chargeback for {label(month)}: {months_hint(con)}.")
        where, params = "true", []
        if scope:
            where, params = f'"{scope[0]}" = ?', [scope[1]]
            if not con.execute(f"select count(*) from export_rows where {where}", params).fetchone()[0]:
                known = [r[0] for r in con.execute(
                    f'select distinct "{scope[0]}" from export_rows order by 1').fetchall()]
                raise ExportError(f"no chargeback rows for {scope_text} in {label(month)}; known there: "
                                  f"{', '.join(known[:15])}{' ...' if len(known) > 15 else ''}.")
        # A total order (the readable keys first, then every column) so the same rows always give the same bytes:
        # a closed month's file is byte-identical however often it is exported.
        columns = con.sql("select * from export_rows limit 0").columns
        readable = ["ChargePeriodStart", "x_Department", "x_Team", "x_CostKind", "x_Agent", "x_Model", "ServiceName"]
        keys = ", ".join(f'"{c}" nulls first' for c in readable + [c for c in columns if c not in readable])
        query = f"select * from export_rows where {where} order by {keys}"
        rows = writers.write(con, query, params, out)
        totals = _totals(con, "export_rows", where, params)
    finally:
        con.close()
    return ExportReport("chargeback", month, out, rows, totals, closed, scope_text)


def export_focus(settings: Settings, warehouse: str, month_text: str, out: str) -> ExportReport:
    month = parse_month(month_text)
    writers.check_target(out)
    con = db.connect(warehouse, read_only=True)
    try:
        require_built(con, "marts.focus_cost_lines")
        where, params = "billing_period = ?", [month]
        if not con.execute(f"select count(*) from marts.focus_cost_lines where {where}", params).fetchone()[0]:
            raise ExportError(f"no billed cost lines for {label(month)}: {months_hint(con)}.")
        query = (f"select * exclude (line_key, billing_period, source_format), source_format as \"x_SourceFormat\" "
                 f"from marts.focus_cost_lines where {where} order by line_key")
        rows = writers.write(con, query, params, out)
        totals = _totals(con, "marts.focus_cost_lines", where, params)
    finally:
        con.close()
    return ExportReport("FOCUS", month, out, rows, totals)


def _totals(con, relation: str, where: str, params: list) -> dict[str, Decimal]:
    return dict(con.execute(f'select "BillingCurrency", sum("BilledCost") from {relation} where {where} group by 1',
                            params).fetchall())
