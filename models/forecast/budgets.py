"""Budget state per budget and period, runway, and threshold crossings recorded once.

For every [[budgets]] entry and every period from the first day of data to the open period: actual spend so far,
the period-end forecast with its 80% interval, % used, and the runway (the day the budget runs out at the current
pace: the day actual spend reached it, or the first day actual plus the forecast path reaches it).

A threshold crossing is recorded once per (budget, period, threshold, basis) in analytics.budget_crossings; a
re-run finds it there and records nothing, so an alert built from new crossings fires once. Actual crossings are
dated by the day cumulative spend reached the threshold; forecast crossings by the data day of the run that first
saw the forecast reach it. Only periods still open or closed within the last week are checked, so a first run on a
long history does not raise alarms about months long gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb

from models.forecast.forecasting import PeriodForecast
from models.forecast.periods import Period, periods_between, period_of
from models.forecast.series import SpendTable
from models.forecast.settings import Budget

CROSSING_LOOKBACK_DAYS = 7          # a period closed this recently still gets its late crossings recorded
MONEY = Decimal("0.000001")


@dataclass
class BudgetStatus:
    budget: Budget
    period: Period
    amount: Decimal
    actual: Decimal
    forecast: Decimal | None
    lower: Decimal | None
    upper: Decimal | None
    runway: date | None
    as_of: date
    scope_found: bool
    department: str | None = None
    team: str | None = None
    agent: str | None = None

    @property
    def pct_actual(self) -> float:
        return float(self.actual / self.amount * 100)

    @property
    def pct_forecast(self) -> float | None:
        return None if self.forecast is None else float(self.forecast / self.amount * 100)

    @property
    def is_open(self) -> bool:
        return self.period.end > self.as_of


@dataclass(frozen=True)
class Crossing:
    budget_name: str
    period: Period
    threshold_pct: float
    basis: str                       # actual | forecast
    department: str | None
    team: str | None
    agent: str | None
    currency: str
    amount: Decimal
    value: Decimal
    crossed_on: date
    runway: date | None
    scope: str


def evaluate(budgets: list[Budget], table: SpendTable, forecasts: dict[tuple[int, Period], PeriodForecast]
             ) -> list[BudgetStatus]:
    """Status of every budget for every period from the first data day to the open period."""
    as_of = table.as_of
    statuses = []
    for budget in budgets:
        row = table.find(budget.scope_kind, budget.scope_value, budget.currency)
        scope = table.scopes[row] if row is not None else None
        last_period = period_of(as_of + timedelta(days=1), budget.period)
        for period in periods_between(table.days[0], last_period.end, budget.period):
            actual = table.actual(row, period.start, min(period.end, as_of)) if row is not None else Decimal(0)
            fc = forecasts.get((row, period)) if row is not None else None
            if period.end <= as_of:
                forecast = lower = upper = actual           # closed: the forecast is what happened
            elif fc is not None:
                forecast, lower, upper = fc.total, fc.lower, fc.upper
            else:
                forecast, lower, upper = (actual, actual, actual) if row is None else (None, None, None)
            statuses.append(BudgetStatus(
                budget, period, budget.amount, actual, forecast, lower, upper,
                _runway(budget.amount, table, row, period, fc), as_of, row is not None,
                department=scope.department if scope else None, team=scope.team if scope else None,
                agent=scope.agent if scope else None))
    return statuses


def _runway(amount: Decimal, table: SpendTable, row: int | None, period: Period, fc: PeriodForecast | None
            ) -> date | None:
    """The day cumulative spend (actual, then the forecast path) reaches the amount within the period."""
    if row is None:
        return None
    as_of = table.as_of
    total = Decimal(0)
    for day, total in table.cumulative(row, period.start, min(period.end, as_of)):
        if total >= amount:
            return day
    if fc is None or period.end <= as_of:
        return None
    running = float(total)
    for offset, value in enumerate(fc.path, start=1):
        running += float(value)
        if running >= float(amount):
            return as_of + timedelta(days=offset)
    return None


def crossings_due(statuses: list[BudgetStatus], table: SpendTable) -> list[Crossing]:
    """Every threshold reached in the periods still checked (open, or closed within the lookback)."""
    found = []
    for status in statuses:
        budget, period = status.budget, status.period
        if not status.scope_found or period.end < status.as_of - timedelta(days=CROSSING_LOOKBACK_DAYS):
            continue
        if period.start > status.as_of and not budget.forecast_thresholds:
            continue
        common = dict(budget_name=budget.name, period=period, department=status.department, team=status.team,
                      agent=status.agent, currency=budget.currency, amount=budget.amount, runway=status.runway,
                      scope=budget.scope)
        row = table.find(budget.scope_kind, budget.scope_value, budget.currency)
        running = table.cumulative(row, period.start, min(period.end, status.as_of)) \
            if period.start <= status.as_of else []
        for threshold in budget.thresholds:
            limit = budget.amount * Decimal(str(threshold)) / 100
            reached = next(((day, total) for day, total in running if total >= limit), None)
            if reached:
                found.append(Crossing(threshold_pct=threshold, basis="actual", value=reached[1],
                                      crossed_on=reached[0], **common))
        if status.is_open and status.forecast is not None:
            for threshold in budget.forecast_thresholds:
                if status.forecast >= budget.amount * Decimal(str(threshold)) / 100:
                    found.append(Crossing(threshold_pct=threshold, basis="forecast", value=status.forecast,
                                          crossed_on=status.as_of, **common))
    return found


def record_new_crossings(con: duckdb.DuckDBPyConnection, due: list[Crossing], now: datetime) -> list[Crossing]:
    """Insert the crossings not recorded before; return those (the ones to alert on)."""
    recorded = {(name, start, float(pct), basis) for name, start, pct, basis in con.execute(
        "select budget_name, period_start, threshold_pct, basis from analytics.budget_crossings").fetchall()}
    new = [c for c in due if (c.budget_name, c.period.start, float(c.threshold_pct), c.basis) not in recorded]
    for c in new:
        con.execute("insert into analytics.budget_crossings values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [c.budget_name, c.period.start, c.threshold_pct, c.basis, c.department, c.team, c.agent,
                     c.currency, c.amount, _money(c.value), c.crossed_on, now])
    return new


def write_status(con: duckdb.DuckDBPyConnection, statuses: list[BudgetStatus], now: datetime) -> None:
    """Replace analytics.budget_status with this run's state."""
    con.execute("delete from analytics.budget_status")
    rows = [[s.budget.name, s.budget.scope_kind, s.budget.scope_value, s.department, s.team, s.agent,
             s.budget.period, s.period.start, s.period.end, s.budget.currency, s.amount, _money(s.actual),
             _money(s.forecast), _money(s.lower), _money(s.upper), s.pct_actual, s.pct_forecast, s.runway,
             s.as_of, now] for s in statuses]
    if rows:
        con.executemany("insert into analytics.budget_status values "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(MONEY)
