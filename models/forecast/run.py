"""`costwarden forecast` as a function: forecast every scope, evaluate budgets, record new threshold crossings.

run_forecast writes analytics.forecasts (rows of the same as-of day are replaced, earlier ones kept so forecast
accuracy can be followed over time), analytics.budget_status (replaced) and analytics.budget_crossings (only new
crossings are added). what_if_forecast computes the same forecasts under what-if assumptions and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from costwarden import db
from models.forecast import budgets as budget_state
from models.forecast.events import crossing_events
from models.forecast.forecasting import PeriodForecast, forecast_periods
from models.forecast.model import SpendForecaster
from models.forecast.periods import Period
from models.forecast.series import SpendTable, load_spend
from models.forecast.whatif import WhatIf, apply, load_recommendation, parse_what_if

METHOD_PREFIX = "robust_seasonal_v1"


@dataclass
class ForecastReport:
    as_of: date
    table: SpendTable
    forecasts: dict[tuple[int, Period], PeriodForecast]
    statuses: list[budget_state.BudgetStatus] = field(default_factory=list)
    new_crossings: list[budget_state.Crossing] = field(default_factory=list)
    what_ifs: list[str] = field(default_factory=list)
    baseline: dict[tuple[int, Period], PeriodForecast] | None = None   # set when what-ifs were applied
    warnings: list[str] = field(default_factory=list)
    detected_at: datetime | None = None
    written: bool = False

    def monthly(self) -> list[tuple[int, Period, PeriodForecast]]:
        """The open month's forecast of every scope (the current month, or the next when as_of closes it)."""
        months = sorted({p for (_, p) in self.forecasts if p.kind == "monthly" and p.end > self.as_of})
        month = months[0] if months else max(p for (_, p) in self.forecasts if p.kind == "monthly")
        return [(row, month, self.forecasts[(row, month)]) for row in range(len(self.table.scopes))
                if (row, month) in self.forecasts]

    def events(self):
        """New crossings as alerts.events.BudgetEvent values (what `costwarden run` hands to the alerts)."""
        return crossing_events(self.new_crossings, self.detected_at or datetime.now(timezone.utc).replace(tzinfo=None))

    def summary(self) -> str:
        monthly = self.monthly()
        lines = [f"forecast as of {self.as_of}: {len(self.table.scopes)} scopes"
                 + (f"; what-if {', '.join(self.what_ifs)} (not stored)" if self.what_ifs else
                    ("; written to analytics.forecasts" if self.written else ""))]
        for row, period, fc in monthly:
            scope = self.table.scopes[row]
            if scope.kind == "all":
                line = (f"  all spend, {period.label}: {fc.actual_to_date:,.2f} {scope.currency} so far, forecast "
                        f"{fc.total:,.2f} (80%: {fc.lower:,.2f} - {fc.upper:,.2f})")
                if self.baseline is not None:
                    before = self.baseline[(row, period)].total
                    line += f"; without the what-if {before:,.2f} ({_change(fc.total, before)})"
                lines.append(line)
        if self.statuses:
            current = [s for s in self.statuses if s.period.end >= self.as_of and s.period.start <= self.as_of]
            lines.append(f"  budgets: {len({s.budget.name for s in self.statuses})}; current period "
                         + ", ".join(f"{s.budget.name} {s.pct_actual:.0f}% used"
                                     + (f" (forecast {s.pct_forecast:.0f}%)" if s.pct_forecast is not None else "")
                                     for s in current))
        for c in self.new_crossings:
            lines.append(f"  new crossing: {c.budget_name} {c.period.label} {c.basis} reached {c.threshold_pct:g}% "
                         f"on {c.crossed_on} ({c.value:,.2f} of {c.amount:,.2f} {c.currency})")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _change(after: Decimal, before: Decimal) -> str:
    if before == 0:
        return "n/a"
    return f"{(after - before) / before * 100:+.1f}%"


def configured_holidays(settings) -> frozenset[date]:
    """Holidays from the anomaly settings when they exist (the detector's list), else none."""
    for owner in (getattr(settings, "anomaly", None), settings):
        holidays = getattr(owner, "holidays", None) if owner is not None else None
        if holidays:
            return frozenset(h if isinstance(h, date) else getattr(h, "day", h) for h in holidays)
    return frozenset()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def compute(con, settings, as_of: date | None = None) -> ForecastReport:
    table = load_spend(con, as_of)
    forecaster = SpendForecaster(holidays=configured_holidays(settings))
    forecasts = forecast_periods(table, forecaster)
    report = ForecastReport(table.as_of, table, forecasts)
    budgets = list(getattr(settings, "budgets", []) or [])
    if budgets:
        report.statuses = budget_state.evaluate(budgets, table, forecasts)
        for budget in budgets:
            if table.find(budget.scope_kind, budget.scope_value, budget.currency) is None:
                report.warnings.append(f"budget {budget.name!r}: no spend found for {budget.scope} in "
                                       f"{budget.currency}; check the scope name and currency")
    return report


def run_forecast(settings, warehouse: str, as_of: date | None = None, now: datetime | None = None) -> ForecastReport:
    """Forecast, evaluate budgets and record new crossings in the warehouse; returns the report."""
    now = now or _now()
    con = db.connect(warehouse, memory_limit=settings.ingest.memory_limit, threads=settings.ingest.threads)
    try:
        report = compute(con, settings, as_of)
        report.detected_at = now
        with db.transaction(con):
            _write_forecasts(con, report, now)
            budget_state.write_status(con, report.statuses, now)
            due = budget_state.crossings_due(report.statuses, report.table)
            report.new_crossings = budget_state.record_new_crossings(con, due, now)
        report.written = True
    finally:
        con.close()
    return report


def what_if_forecast(settings, warehouse: str, what_ifs: list[str], as_of: date | None = None) -> ForecastReport:
    """The forecasts under the what-ifs (applied in order); reads the warehouse, writes nothing."""
    parsed: list[WhatIf] = [parse_what_if(text) for text in what_ifs]
    con = db.connect(warehouse, read_only=True)
    try:
        report = compute(con, settings, as_of)
        recommendations = {w.rec_id: load_recommendation(con, w.rec_id) for w in parsed if w.rec_id}
    finally:
        con.close()
    baseline = report.forecasts
    adjusted = baseline
    for what_if in parsed:
        adjusted = apply(what_if, adjusted, report.table, recommendations.get(what_if.rec_id))
    report.baseline, report.forecasts = baseline, adjusted
    report.what_ifs = [w.text for w in parsed]
    report.statuses = budget_state.evaluate(list(getattr(settings, "budgets", []) or []), report.table, adjusted) \
        if report.statuses else []
    return report


def _write_forecasts(con, report: ForecastReport, now: datetime) -> None:
    con.execute("delete from analytics.forecasts where as_of = ?", [report.as_of])
    rows = []
    for (row, period), fc in sorted(report.forecasts.items(), key=lambda item: (item[0][0], item[0][1])):
        scope = report.table.scopes[row]
        rows.append([scope.kind, scope.value, scope.department, scope.team, scope.agent, period.start, period.end,
                     report.as_of, scope.currency, fc.actual_to_date, fc.total, fc.lower, fc.upper,
                     f"{METHOD_PREFIX}:{fc.method}", now])
    if rows:
        con.executemany("insert into analytics.forecasts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
