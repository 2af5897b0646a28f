"""Period-end forecasts of every scope: actual to date (exact) plus the forecaster's rest of the period.

Periods forecast: the month and the quarter holding the as-of day, and, when the as-of day closes one of them, the
next month or quarter (a run on the last day of October forecasts November). A closed period's forecast is its
actual spend (method "closed").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from models.forecast.model import SpendForecaster
from models.forecast.periods import Period, period_of
from models.forecast.series import SpendTable

MONEY = Decimal("0.000001")


@dataclass
class PeriodForecast:
    row: int
    period: Period
    as_of: date
    actual_to_date: Decimal
    rest: Decimal            # predicted spend of the remaining days
    rest_lower: Decimal
    rest_upper: Decimal
    path: np.ndarray         # predicted spend per remaining day
    method: str

    @property
    def total(self) -> Decimal:
        return self.actual_to_date + self.rest

    @property
    def lower(self) -> Decimal:
        return self.actual_to_date + self.rest_lower

    @property
    def upper(self) -> Decimal:
        return self.actual_to_date + self.rest_upper


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(MONEY)


def periods_to_forecast(as_of: date) -> list[Period]:
    found: list[Period] = []
    for kind in ("monthly", "quarterly"):
        for period in (period_of(as_of, kind), period_of(as_of + timedelta(days=1), kind)):
            if period not in found:
                found.append(period)
    return found


def forecast_periods(table: SpendTable, forecaster: SpendForecaster, periods: list[Period] | None = None,
                     as_of: date | None = None) -> dict[tuple[int, Period], PeriodForecast]:
    """Forecast every scope of `table` for each period, as a run on `as_of` (default: the table's last day) would."""
    as_of = as_of or table.as_of
    history = table.history(as_of)
    out: dict[tuple[int, Period], PeriodForecast] = {}
    for period in periods or periods_to_forecast(as_of):
        horizon = (period.end - as_of).days
        prediction = forecaster.predict(history, as_of, horizon)
        for row in range(len(table.scopes)):
            actual = table.actual(row, period.start, min(as_of, period.end)) if period.start <= as_of else Decimal(0)
            path = prediction.path[row]
            if period.start > as_of:
                # Only days inside the period count (never the case for the periods above, but keep it exact).
                skip = (period.start - as_of).days - 1
                path = path[skip:]
            out[(row, period)] = PeriodForecast(
                row, period, as_of, actual, _decimal(path.sum()),
                _decimal(prediction.lower[row]), _decimal(prediction.upper[row]), path,
                "closed" if horizon <= 0 else str(prediction.method[row]))
    return out
