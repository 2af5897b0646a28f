"""`costwarden forecast` and `costwarden budgets`: parse the arguments' values, run, print a table or JSON."""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal

from costwarden import db
from costwarden.errors import UsageError
from models.forecast.run import ForecastReport, run_forecast, what_if_forecast


def parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of {text!r} is not a date; write it as YYYY-MM-DD (e.g. 2026-10-14).") from None


def forecast_command(args, settings, warehouse: str) -> int:
    as_of = parse_day(getattr(args, "as_of", None))
    what_ifs = list(getattr(args, "what_if", None) or [])
    report = what_if_forecast(settings, warehouse, what_ifs, as_of) if what_ifs else \
        run_forecast(settings, warehouse, as_of)
    if getattr(args, "format", "table") == "json":
        print(json.dumps(forecast_json(report), indent=1, default=str))
    else:
        _print_table(*forecast_table(report))
        print(report.summary(), file=sys.stderr)
    return 0


def forecast_table(report: ForecastReport) -> tuple[list[str], list[list]]:
    names = ["scope", "period", "currency", "actual to date", "forecast", "80% low", "80% high", "method"]
    if report.baseline is not None:
        names[4:4] = ["baseline", "change"]
    rows = []
    for row, period, fc in report.monthly():
        scope = report.table.scopes[row]
        values = [scope.key, period.label, scope.currency, _money(fc.actual_to_date), _money(fc.total),
                  _money(fc.lower), _money(fc.upper), fc.method]
        if report.baseline is not None:
            before = report.baseline[(row, period)].total
            values[4:4] = [_money(before), _money(fc.total - before)]
        rows.append(values)
    return names, rows


def forecast_json(report: ForecastReport) -> dict:
    out = {"as_of": report.as_of.isoformat(), "what_ifs": report.what_ifs, "forecasts": []}
    for (row, period), fc in sorted(report.forecasts.items(), key=lambda item: (item[0][0], item[0][1])):
        scope = report.table.scopes[row]
        entry = {"scope_kind": scope.kind, "scope_value": scope.value, "department": scope.department,
                 "team": scope.team, "agent": scope.agent, "currency": scope.currency, "period": period.label,
                 "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
                 "actual_to_date": str(fc.actual_to_date), "forecast": str(fc.total), "lower_80": str(fc.lower),
                 "upper_80": str(fc.upper), "method": fc.method}
        if report.baseline is not None:
            entry["baseline_forecast"] = str(report.baseline[(row, period)].total)
        out["forecasts"].append(entry)
    out["budgets"] = [{"budget": s.budget.name, "period": s.period.label, "currency": s.budget.currency,
                       "amount": str(s.amount), "actual": str(s.actual),
                       "forecast": None if s.forecast is None else str(s.forecast),
                       "pct_actual": round(s.pct_actual, 2),
                       "pct_forecast": None if s.pct_forecast is None else round(s.pct_forecast, 2),
                       "runway_date": s.runway.isoformat() if s.runway else None} for s in report.statuses]
    out["new_crossings"] = [{"budget": c.budget_name, "period": c.period.label, "basis": c.basis,
                             "threshold_pct": c.threshold_pct, "crossed_on": c.crossed_on.isoformat(),
                             "value": str(c.value)} for c in report.new_crossings]
    out["warnings"] = report.warnings
    return out


BUDGET_SQL = """
    select s.budget_name, s.scope_kind, s.scope_value, s.period_kind, s.period_start, s.period_end, s.currency,
           s.amount, s.actual, s.forecast, s.forecast_lower_80, s.forecast_upper_80, s.pct_actual, s.pct_forecast,
           s.runway_date, s.as_of,
           (select string_agg(c.basis || ' ' || cast(c.threshold_pct as varchar) || '%', ', '
                              order by c.basis, c.threshold_pct)
            from analytics.budget_crossings as c
            where c.budget_name = s.budget_name and c.period_start = s.period_start) as crossed
    from analytics.budget_status as s
    where ? or s.period_end >= s.as_of
    order by s.budget_name, s.period_start
"""


def budgets_command(args, settings, warehouse: str) -> int:
    con = db.connect(warehouse, read_only=True)
    try:
        rows = con.execute(BUDGET_SQL, [bool(getattr(args, "all", False))]).fetchall()
    finally:
        con.close()
    if not rows:
        if not getattr(settings, "budgets", None):
            raise UsageError("no budgets configured: add [[budgets]] entries to the config (see "
                             "costwarden.example.toml), then run `costwarden forecast`.")
        raise UsageError("no budget status yet: run `costwarden forecast` to evaluate the configured budgets.")
    if getattr(args, "format", "table") == "json":
        keys = ["budget", "scope_kind", "scope_value", "period_kind", "period_start", "period_end", "currency",
                "amount", "actual", "forecast", "forecast_lower_80", "forecast_upper_80", "pct_actual",
                "pct_forecast", "runway_date", "as_of", "crossed"]
        print(json.dumps([dict(zip(keys, [_plain(v) for v in r])) for r in rows], indent=1, default=str))
        return 0
    names = ["budget", "scope", "period", "amount", "actual", "forecast (80%)", "% used", "% forecast", "runway",
             "thresholds crossed"]
    table = []
    for (name, kind, value, period_kind, start, _end, currency, amount, actual, forecast, low, high, pct, pct_fc,
         runway, _as_of, crossed) in rows:
        scope = "all" if kind == "all" else f"{kind}:{value}"
        label = f"{start.year}-Q{(start.month - 1) // 3 + 1}" if period_kind == "quarterly" else f"{start:%Y-%m}"
        table.append([name, scope, label, f"{_money(amount)} {currency}", _money(actual),
                      "" if forecast is None else f"{_money(forecast)} ({_money(low)}-{_money(high)})",
                      f"{pct:.0f}%", "" if pct_fc is None else f"{pct_fc:.0f}%",
                      runway.isoformat() if runway else "not this period", crossed or ""])
    _print_table(names, table)
    print(f"as of {rows[0][15]} (the last `costwarden forecast` run)", file=sys.stderr)
    return 0


def _money(value) -> str:
    return "" if value is None else f"{Decimal(value):,.2f}"


def _plain(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    return value.isoformat() if isinstance(value, date) else value


def _print_table(names: list[str], rows: list[list]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*names)
    for row in rows:
        table.add_row(*[str(v) for v in row])
    Console(width=max(120, Console().width)).print(table)
