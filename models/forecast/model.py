"""Spend forecaster for many daily series at once: robust level, damped trend, weekly profile, calibrated interval.

The point forecast of day T+h is `(level + damping x slope x (centre + h)) x weekday_factor(T+h)`:

- weekday factors: for each of the last `profile_weeks` whole weeks, each day's spend divided by its week's mean;
  the median over weeks per weekday, normalised to average 1 (multiplicative, so a team idle at weekends stays
  idle). A configured holiday takes the mean weekend factor.
- level: the winsorised mean (clipped at median +- 2.5 robust sigmas) of the deseasonalised spend of the last
  `level_days` days, so a one-day spike neither lifts the month nor hides real spend.
- slope: Theil-Sen over the means of the last `trend_weeks` whole weeks (at least four), damped (a level shift inside the window
  looks like a trend; damping keeps it from being extrapolated to the month's end at full strength).

The 80% interval of the sum over the horizon is log-normal around the point forecast, with a relative variance
built from what can go wrong: day-to-day noise (with its lag-1 correlation), the error of the level estimate, and a
random-walk drift of the level estimated from week-to-week changes. One factor, `interval_scale`, is calibrated on
the benchmark's tuning seed (benchmarks/forecast_eval.py) and checked on another seed and on the demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from models.anomaly.robust import MAD_TO_SIGMA, nanmedian, theil_sen_slope

Z_80 = 1.2815515655446004        # standard normal quantile of 0.9: a central 80% interval
MIN_SIGMA = 0.01                 # relative day noise floor (a constant series still gets a sliver of interval)
SHORT_SIGMA = 0.5                # relative day noise assumed with under a week of history
DRIFT_PRIOR = 0.05               # weekly relative level drift assumed before four weeks of history


@dataclass(frozen=True)
class ForecastParams:
    level_days: int = 14
    profile_weeks: int = 8
    trend_weeks: int = 8
    trend_damping: float = 0.5
    interval_scale: float = 0.941       # calibrated on the benchmark tuning seed (80% coverage)
    noise_days: int = 28
    # Days of the month with their own recurring charge (1 = the 1st, -1 = the last day), learned from the last
    # three occurrences and kept only when clearly beyond the day-to-day noise.
    month_days: tuple[int, ...] = (1, -1)


@dataclass
class Prediction:
    """Per series: the daily point path over the horizon, the horizon sum and its 80% interval, and the method."""

    path: np.ndarray          # (series, horizon)
    total: np.ndarray         # (series,)
    lower: np.ndarray
    upper: np.ndarray
    method: np.ndarray        # (series,) str


def _weekdays(last_day: date, offsets: np.ndarray) -> np.ndarray:
    return (last_day.weekday() + offsets) % 7


def _month_key(last_day: date, offsets: np.ndarray, month_days: tuple[int, ...]) -> np.ndarray:
    """Index into month_days of each offset's day (earlier entries win), or -1."""
    keys = np.full(len(offsets), -1)
    for position, offset in enumerate(offsets):
        day = last_day + timedelta(days=int(offset))
        length = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
        for index, wanted in enumerate(month_days):
            if day.day == (wanted if wanted > 0 else length + wanted + 1):
                keys[position] = index
                break
    return keys


def _is_holiday(last_day: date, offsets: np.ndarray, holidays: frozenset[date]) -> np.ndarray:
    if not holidays:
        return np.zeros(len(offsets), dtype=bool)
    days = [last_day + timedelta(days=int(o)) for o in offsets]
    # A holiday on a weekend is already a weekend day.
    return np.array([d in holidays and d.weekday() < 5 for d in days], dtype=bool)


class SpendForecaster:
    def __init__(self, params: ForecastParams | None = None, holidays: frozenset[date] | set[date] = frozenset()):
        self.params = params or ForecastParams()
        self.holidays = frozenset(holidays)

    def predict(self, history: np.ndarray, last_day: date, horizon: int) -> Prediction:
        """Forecast `horizon` days after `last_day` from `history` (series x days ending on last_day; NaN = the
        series did not exist yet)."""
        p = self.params
        history = np.atleast_2d(np.asarray(history, dtype=float))
        n = history.shape[0]
        if horizon <= 0:
            zeros = np.zeros(n)
            return Prediction(np.zeros((n, 0)), zeros, zeros.copy(), zeros.copy(), np.full(n, "closed", dtype=object))
        width = max(p.level_days, 7 * p.profile_weeks, 7 * p.trend_weeks, p.noise_days)
        y = history[:, -width:]
        if y.shape[1] < width:
            y = np.hstack([np.full((n, width - y.shape[1]), np.nan), y])
        offsets = np.arange(-width + 1, 1)                          # column offsets from last_day
        past_holiday = _is_holiday(last_day, offsets, self.holidays)
        past_key = _month_key(last_day, offsets, p.month_days) >= 0
        # Month-day charges (a support fee on the 1st) and holidays are learned apart from the weekly pattern.
        y_for_profile = np.where((past_holiday | past_key)[None, :], np.nan, y)
        valid_days = np.count_nonzero(~np.isnan(y), axis=1)

        factors = self._weekday_factors(y_for_profile, last_day, offsets)          # (n, 7), weekday-indexed
        weekend = factors[:, 5:7].mean(axis=1)
        column_factor = factors[:, _weekdays(last_day, offsets)]
        column_factor[:, past_holiday] = weekend[:, None]
        deseasoned = np.where(column_factor >= 0.2, y_for_profile / np.maximum(column_factor, 1e-9), np.nan)

        recent = deseasoned[:, -p.level_days:]
        level, n_level = self._level(recent)
        # Days back from last_day to the middle of the days the level came from (skipped days move it).
        back = np.arange(recent.shape[1] - 1, -1, -1, dtype=float)
        centre = np.where(n_level > 0, np.nansum(np.where(np.isnan(recent), np.nan, back[None, :]), axis=1)
                          / np.maximum(n_level, 1), (p.level_days - 1) / 2.0)
        weekly = self._week_means(deseasoned, p.trend_weeks)
        # Four weeks at least: a slope from three short weeks swings with any one of them.
        slope = np.where(np.count_nonzero(~np.isnan(weekly), axis=1) >= 4, theil_sen_slope(weekly, 7.0), 0.0)
        slope = np.where(level > 0, np.clip(slope, -0.03 * level, 0.03 * level), 0.0) * p.trend_damping

        ahead = np.arange(1, horizon + 1)
        future_factor = factors[:, _weekdays(last_day, ahead)]
        future_holiday = _is_holiday(last_day, ahead, self.holidays)
        future_factor[:, future_holiday] = weekend[:, None]
        future_level = np.maximum(level[:, None] + slope[:, None] * (centre[:, None] + ahead[None, :]), 0.0)
        fitted = (level[:, None] + slope[:, None] * (offsets[None, :] + centre[:, None])) * column_factor
        sigma, dependence = self._noise(np.where(past_key[None, :], np.nan, y)[:, -p.noise_days:],
                                        fitted[:, -p.noise_days:], level, valid_days)
        effects, effect_spread = self._month_day_effects(history, last_day, factors, weekend, sigma)
        future_key = _month_key(last_day, ahead, p.month_days)
        extra = np.zeros((n, horizon))
        extra_var = np.zeros(n)
        for key in range(len(p.month_days)):
            hits = future_key == key
            extra[:, hits] = effects[:, key][:, None]
            extra_var += hits.sum() * effect_spread[:, key] ** 2
        path = np.maximum(future_level * future_factor + extra, 0.0)
        total = path.sum(axis=1)
        drift = self._drift(weekly, level, slope, sigma, dependence, valid_days)
        weights = np.where(total[:, None] > 0, path / np.where(total > 0, total, 1.0)[:, None], 0.0)
        daily_var = dependence * sigma ** 2 * (weights ** 2).sum(axis=1)
        level_var = dependence * sigma ** 2 * (np.pi / 2) / np.maximum(n_level, 1)
        level_var = level_var + np.where(total > 0, extra_var / np.where(total > 0, total, 1.0) ** 2, 0.0)
        drift_var = drift ** 2 / 7.0 * (centre + (horizon + 1) * (2 * horizon + 1) / (6.0 * horizon))
        spread = p.interval_scale * Z_80 * np.sqrt(daily_var + level_var + drift_var)
        lower, upper = total * np.exp(-spread), total * np.exp(spread)

        method = np.where(valid_days == 0, "no_history",
                          np.where(valid_days < 14, "level",
                                   np.where(np.count_nonzero(~np.isnan(weekly), axis=1) >= 4, "seasonal_trend",
                                            "seasonal"))).astype(object)
        return Prediction(path, total, lower, upper, method)

    # ---- pieces ----------------------------------------------------------------------------------------------------

    def _weekday_factors(self, y: np.ndarray, last_day: date, offsets: np.ndarray) -> np.ndarray:
        """Median ratio of each weekday to its centred 7-day mean (a trend inside the week cancels out)."""
        n = y.shape[0]
        span = min(y.shape[1], 7 * self.params.profile_weeks + 3)
        values = y[:, -span:]
        windows = np.lib.stride_tricks.sliding_window_view(values, 7, axis=1)   # (n, span - 6, 7)
        centred = windows.mean(axis=2)                                          # NaN unless all seven are there
        middle = values[:, 3:span - 3]
        ratios = np.where(centred > 0, middle / np.where(centred > 0, centred, 1.0), np.nan)
        weekday_of = _weekdays(last_day, offsets[-span:][3:span - 3])
        factors = np.ones((n, 7))
        for weekday in range(7):
            factors[:, weekday] = nanmedian(ratios[:, weekday_of == weekday], min_count=2)
        complete = ~np.isnan(factors).any(axis=1)
        factors = np.where(complete[:, None], factors, 1.0)
        return factors / factors.mean(axis=1, keepdims=True)

    def _month_day_effects(self, history, last_day, factors, weekend, sigma):
        """Extra spend of each month day over its neighbours (series x keys), and the spread of that estimate."""
        n = history.shape[0]
        keys = self.params.month_days
        effects, spread = np.zeros((n, len(keys))), np.zeros((n, len(keys)))
        span = min(history.shape[1], 100)
        offsets = np.arange(-span + 1, 1)
        key_of = _month_key(last_day, offsets, keys)
        values = history[:, -span:]
        factor = factors[:, _weekdays(last_day, offsets)]
        factor[:, _is_holiday(last_day, offsets, self.holidays)] = weekend[:, None]
        plain = np.where((key_of >= 0)[None, :] | (factor < 0.2), np.nan, values / np.maximum(factor, 1e-9))
        for key in range(len(keys)):
            columns = np.flatnonzero(key_of == key)[-3:]
            if columns.size == 0:
                continue
            excess = np.stack([values[:, c] - factor[:, c] * nanmedian(plain[:, max(0, c - 7):c + 8])
                               for c in columns], axis=1)
            reference = np.stack([factor[:, c] * nanmedian(plain[:, max(0, c - 7):c + 8]) for c in columns], axis=1)
            effect = nanmedian(excess)
            # Keep an effect only when it stands clear of the noise (3 relative sigmas of its day's spend).
            noise = 3 * sigma * nanmedian(np.abs(reference))
            keep = np.isfinite(effect) & (np.abs(effect) > noise)
            effects[:, key] = np.where(keep, effect, 0.0)
            rough = MAD_TO_SIGMA * nanmedian(np.abs(excess - effect[:, None])) if columns.size >= 3 else \
                0.25 * np.abs(effect)
            spread[:, key] = np.where(keep, np.nan_to_num(rough), 0.0)
        return effects, spread

    @staticmethod
    def _level(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        median = nanmedian(values)
        sigma = MAD_TO_SIGMA * nanmedian(np.abs(values - median[:, None]))
        clipped = np.clip(values, (median - 2.5 * sigma)[:, None], (median + 2.5 * sigma)[:, None])
        count = np.count_nonzero(~np.isnan(values), axis=1)
        level = np.where(count > 0, np.nansum(np.where(np.isnan(values), 0.0, clipped), axis=1)
                         / np.maximum(count, 1), 0.0)
        return np.maximum(level, 0.0), count

    @staticmethod
    def _week_means(values: np.ndarray, n_weeks: int) -> np.ndarray:
        weeks = min(n_weeks, values.shape[1] // 7)
        block = values[:, values.shape[1] - 7 * weeks:].reshape(values.shape[0], weeks, 7)
        count = np.count_nonzero(~np.isnan(block), axis=2)
        sums = np.nansum(np.where(np.isnan(block), 0.0, block), axis=2)
        return np.where(count >= 4, sums / np.maximum(count, 1), np.nan)

    @staticmethod
    def _noise(y: np.ndarray, fitted: np.ndarray, level: np.ndarray, valid_days: np.ndarray):
        usable = fitted > 0.1 * level[:, None]
        errors = np.where(usable, (y - fitted) / np.where(usable, fitted, 1.0), np.nan)
        centre = nanmedian(errors, min_count=5)
        sigma = MAD_TO_SIGMA * nanmedian(np.abs(errors - centre[:, None]), min_count=5)
        step = MAD_TO_SIGMA * nanmedian(np.abs(np.diff(errors, axis=1)), min_count=5)
        rho = np.clip(1.0 - (step / np.where(sigma > 0, sigma, np.nan)) ** 2 / 2.0, 0.0, 0.8)
        dependence = np.where(np.isfinite(rho), (1 + rho) / (1 - rho), 1.0)
        sigma = np.where(np.isfinite(sigma), np.maximum(sigma, MIN_SIGMA), SHORT_SIGMA)
        sigma = np.where(valid_days < 7, np.maximum(sigma, SHORT_SIGMA), sigma)
        return sigma, dependence

    @staticmethod
    def _drift(weekly, level, slope, sigma, dependence, valid_days):
        """Weekly relative random-walk drift of the level: spread of week-to-week changes beyond noise and trend."""
        relative = weekly / np.where(level > 0, level, np.nan)[:, None]
        changes = np.diff(relative, axis=1) - (7 * slope / np.where(level > 0, level, np.nan))[:, None]
        count = np.count_nonzero(~np.isnan(changes), axis=1)
        spread = MAD_TO_SIGMA * nanmedian(np.abs(changes), min_count=3)
        excess = spread ** 2 - 2 * dependence * sigma ** 2 / 7.0
        drift = np.sqrt(np.maximum(np.where(np.isfinite(excess), excess, 0.0), 0.0))
        return np.where((count >= 3) & (valid_days >= 28), drift, DRIFT_PRIOR)
