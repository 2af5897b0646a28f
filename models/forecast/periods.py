"""Budget and forecast periods: calendar months and calendar quarters, with their labels ("2026-03", "2026-Q1")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

PeriodKind = Literal["monthly", "quarterly"]


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date                 # inclusive last day
    kind: PeriodKind

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.kind == "quarterly":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def next(self) -> "Period":
        return period_of(self.end + timedelta(days=1), self.kind)


def period_of(day: date, kind: PeriodKind) -> Period:
    """The month or calendar quarter that holds `day`."""
    first_month = day.month if kind == "monthly" else 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    months = 1 if kind == "monthly" else 3
    year, month = divmod(first_month - 1 + months, 12)
    return Period(start, date(day.year + year, month + 1, 1) - timedelta(days=1), kind)


def periods_between(first: date, last: date, kind: PeriodKind) -> list[Period]:
    """Every period overlapping first..last, oldest first."""
    found, period = [], period_of(first, kind)
    while period.start <= last:
        found.append(period)
        period = period.next()
    return found
