"""Calendar keys of a grid's days: is it a configured holiday, and which month day (1st, 2nd, last, ...) is it.

The detector learns one effect per key from that key's earlier occurrences (so a month-start batch job or a holiday
dip stops alerting once seen); a day that is both gets both effects. A holiday on a Saturday or Sunday is treated
as that weekend day: its effect is already in the weekly profile.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

NO_KEY = -1
HOLIDAY_KEY = 0


def day_keys(days: pd.DatetimeIndex, month_days: tuple[int, ...],
             holidays: tuple[date, ...] | set[date]) -> tuple[np.ndarray, np.ndarray]:
    """(is_holiday, month_key) per day: month_key is 1 + index into `month_days` (negative = from the month's end),
    or NO_KEY."""
    keys = np.full(len(days), NO_KEY, dtype=np.int16)
    day_of_month = np.asarray(days.day)
    month_length = np.asarray(days.days_in_month)
    # Earlier entries win when two name the same day (e.g. 28 and -1 in February), so fill in reverse order.
    for index in range(len(month_days) - 1, -1, -1):
        wanted = month_days[index]
        target = wanted if wanted > 0 else month_length + wanted + 1
        keys[day_of_month == target] = index + 1
    is_holiday = np.zeros(len(days), dtype=bool)
    if holidays:
        holiday_days = pd.DatetimeIndex(pd.to_datetime(sorted(holidays))).normalize()
        is_holiday = np.asarray(days.normalize().isin(holiday_days)) & (np.asarray(days.day_of_week) < 5)
    return is_holiday, keys


def n_keys(month_days: tuple[int, ...]) -> int:
    return len(month_days) + 1
