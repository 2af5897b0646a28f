"""The spend forecaster on synthetic series with a known answer, and the sanity of its 80% interval."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from models.forecast.model import ForecastParams, SpendForecaster
from models.forecast.periods import period_of, periods_between

LAST = date(2026, 4, 30)            # a Thursday; history below ends on it


def _days(n: int, horizon: int = 0) -> list[date]:
    first = LAST - timedelta(days=n - 1)
    return [first + timedelta(days=i) for i in range(n + horizon)]


def _weekly(days: list[date], weekday: float = 100.0, weekend: float = 40.0) -> np.ndarray:
    return np.array([weekend if d.weekday() >= 5 else weekday for d in days])


def test_exact_weekly_pattern_is_forecast_exactly():
    days = _days(90, 31)
    series = _weekly(days)
    prediction = SpendForecaster().predict(series[None, :90], LAST, 31)
    assert prediction.total[0] == pytest.approx(series[90:].sum(), rel=1e-9)
    assert prediction.path[0] == pytest.approx(series[90:], rel=1e-9)
    assert prediction.lower[0] <= series[90:].sum() <= prediction.upper[0]
    assert prediction.method[0] == "seasonal_trend"


def test_linear_trend_is_extrapolated_when_undamped():
    t = np.arange(120, dtype=float)
    series = 100.0 + 2.0 * t
    params = replace(ForecastParams(), trend_damping=1.0)
    prediction = SpendForecaster(params).predict(series[None, :90], LAST, 30)
    assert prediction.total[0] == pytest.approx(series[90:].sum(), rel=1e-6)
    damped = SpendForecaster().predict(series[None, :90], LAST, 30)
    assert series[89] * 30 < damped.total[0] < series[90:].sum()      # half the trend: between flat and full


def test_a_spike_in_history_barely_moves_the_forecast():
    days = _days(90)
    clean = _weekly(days)
    spiked = clean.copy()
    spiked[-5] *= 10                                               # a one-day backfill last week
    clean_total, spiked_total = SpendForecaster().predict(np.vstack([clean, spiked]), LAST, 31).total
    assert spiked_total == pytest.approx(clean_total, rel=0.02)


def test_month_start_charge_is_learned_and_repeated():
    days = _days(120, 31)
    series = _weekly(days) + np.array([500.0 if d.day == 1 else 0.0 for d in days])
    prediction = SpendForecaster().predict(series[None, :120], LAST, 31)        # May 1 .. May 31
    assert prediction.path[0][0] == pytest.approx(series[120], rel=1e-6)
    assert prediction.total[0] == pytest.approx(series[120:].sum(), rel=1e-6)


def test_holidays_take_the_weekend_level():
    holiday = LAST + timedelta(days=4)                              # Monday May 4
    days = _days(90, 7)
    series = _weekly(days)
    prediction = SpendForecaster(holidays={holiday}).predict(series[None, :90], LAST, 7)
    assert prediction.path[0][3] == pytest.approx(40.0, rel=1e-6)


def test_zero_and_short_series_give_finite_answers():
    zeros = np.zeros(60)
    short = np.concatenate([np.full(57, np.nan), [10.0, 12.0, 11.0]])
    prediction = SpendForecaster().predict(np.vstack([zeros, short]), LAST, 10)
    assert prediction.total[0] == 0 and prediction.lower[0] == 0 and prediction.upper[0] == 0
    assert np.isfinite(prediction.total[1]) and prediction.total[1] == pytest.approx(110, rel=0.2)
    assert prediction.method[1] == "level"
    # Three days say little: the interval is wide.
    assert prediction.upper[1] / prediction.lower[1] > 1.5


def test_interval_widens_with_noise_and_horizon():
    rng = np.random.default_rng(3)
    days = _days(90)
    base = _weekly(days)
    calm = base * np.exp(rng.normal(0, 0.02, 90))
    noisy = base * np.exp(rng.normal(0, 0.15, 90))
    forecaster = SpendForecaster()
    short = forecaster.predict(np.vstack([calm, noisy]), LAST, 5)
    long = forecaster.predict(np.vstack([calm, noisy]), LAST, 60)
    width = lambda p: (p.upper - p.lower) / p.total   # noqa: E731
    assert np.all(short.lower <= short.total) and np.all(short.total <= short.upper)
    assert width(short)[1] > 2 * width(short)[0]
    # Day-to-day noise averages out over a longer horizon, level drift does not: in dollars the band grows.
    assert long.upper[0] - long.lower[0] > short.upper[0] - short.lower[0]


def test_interval_covers_about_80_percent_of_noisy_futures():
    rng = np.random.default_rng(11)
    n, history, horizon = 400, 90, 20
    days = _days(history, horizon)
    level = rng.uniform(50, 5000, n)[:, None]
    sigma = rng.uniform(0.03, 0.2, n)[:, None]
    series = level * _weekly(days, 1.0, rng.uniform(0.3, 1.0))[None, :] * np.exp(rng.normal(size=(n, len(days))) * sigma)
    prediction = SpendForecaster().predict(series[:, :history], LAST, horizon)
    actual = series[:, history:].sum(axis=1)
    coverage = np.mean((prediction.lower <= actual) & (actual <= prediction.upper))
    assert 0.72 <= coverage <= 0.92, coverage


def test_periods_months_and_quarters():
    assert period_of(date(2026, 2, 14), "monthly").end == date(2026, 2, 28)
    q = period_of(date(2026, 11, 3), "quarterly")
    assert (q.start, q.end, q.label, q.days) == (date(2026, 10, 1), date(2026, 12, 31), "2026-Q4", 92)
    assert [p.label for p in periods_between(date(2026, 7, 4), date(2026, 10, 1), "quarterly")] == \
        ["2026-Q3", "2026-Q4"]
    assert period_of(date(2026, 12, 31), "monthly").next().label == "2027-01"
