"""Labelled synthetic suite of spend-like series (seeded, vectorised) for evaluating anomaly detectors.

Normal behaviour that must NOT alert: growth, weekly pattern, daily shape (hourly), autocorrelated noise, month-start
batch jobs and holidays (from the same holiday list the detector is given). Each anomalous series carries exactly
one labelled anomaly of one type, planted after the first three months (daily) or five weeks (hourly).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

ANOMALY_TYPES = ("spike", "level_shift", "drift", "pattern_break", "price_step", "prompt_bloat", "runaway_loop")


@dataclass(frozen=True)
class SuiteSpec:
    grain: str                 # "daily" or "hourly"
    days: int
    n_per_type: int
    n_normal: int
    # A Monday; the first 28 days (before any alert) hold a holiday and a month start, as a real history would.
    start: date = date(2023, 11, 6)

    @property
    def per_day(self) -> int:
        return 1 if self.grain == "daily" else 24


@dataclass
class Suite:
    spec: SuiteSpec
    frame: pd.DataFrame        # series_id, timestamp, value
    labels: pd.DataFrame       # series_id, kind, start, end (inclusive; kind "normal" has no window)
    holidays: tuple[date, ...]


DAILY = SuiteSpec("daily", days=400, n_per_type=40, n_normal=120)
HOURLY = SuiteSpec("hourly", days=120, n_per_type=20, n_normal=60)


def us_holidays(first_year: int, last_year: int) -> tuple[date, ...]:
    """US federal holidays by rule (the kind of list a user puts in the config)."""
    def nth(year, month, weekday, n):
        day = date(year, month, 1)
        day += timedelta(days=(weekday - day.weekday()) % 7)
        return day + timedelta(weeks=n - 1)

    def last(year, month, weekday):
        day = date(year, month + 1, 1) - timedelta(days=1)
        return day - timedelta(days=(day.weekday() - weekday) % 7)

    found = []
    for y in range(first_year, last_year + 1):
        found += [date(y, 1, 1), nth(y, 1, 0, 3), nth(y, 2, 0, 3), last(y, 5, 0), date(y, 6, 19), date(y, 7, 4),
                  nth(y, 9, 0, 1), nth(y, 11, 3, 4), date(y, 12, 25)]
    return tuple(sorted(found))


def generate(seed: int, spec: SuiteSpec) -> Suite:
    rng = np.random.default_rng(seed)
    per_day, n_pos = spec.per_day, spec.days * spec.per_day
    kinds = np.array(["normal"] * spec.n_normal + [k for k in ANOMALY_TYPES for _ in range(spec.n_per_type)])
    n = len(kinds)
    stamps = pd.date_range(pd.Timestamp(spec.start), periods=n_pos, freq="D" if per_day == 1 else "h")
    day = np.arange(n_pos) // per_day
    hour = np.arange(n_pos) % per_day
    dates = stamps.normalize()
    weekend = np.asarray(dates.day_of_week >= 5)
    holidays = us_holidays(spec.start.year, spec.start.year + spec.days // 365 + 1)
    holiday = np.asarray(dates.isin(pd.DatetimeIndex(pd.to_datetime(holidays))))
    month_start = np.asarray(dates.day == 1)

    col = lambda a: np.asarray(a)[:, None]  # noqa: E731
    level = col(rng.uniform(np.log(5), np.log(5000), n))
    growth = col(rng.uniform(-0.001, 0.004, n))
    weekend_factor = np.where(kinds == "pattern_break", rng.uniform(0.25, 0.5, n), rng.uniform(0.25, 1.0, n))
    quiet = (weekend | holiday)[None, :]
    log_y = level + growth * day[None, :] + np.where(quiet, np.log(col(weekend_factor)), 0.0)
    if per_day > 1:
        amplitude = col(rng.uniform(0.4, 1.5, n))
        shape = np.exp(-((hour - 14) / 4.0) ** 2)
        shape = shape - shape.mean()
        log_y = log_y + amplitude * shape[None, :] * np.where(quiet, 0.5, 1.0)
    batch = rng.random(n) < 0.5
    if per_day == 1:
        bump = np.where(month_start[None, :], col(np.log(rng.uniform(1.4, 2.5, n))), 0.0)
    else:
        bump = np.where((month_start & (hour >= 1) & (hour <= 4))[None, :], col(np.log(rng.uniform(2, 5, n))), 0.0)
    log_y = log_y + bump * col(batch)
    log_y = log_y + _noise(rng, n, n_pos, per_day)

    labels = [{"series_id": f"{spec.grain}-{i:04d}", "kind": kinds[i], "start": pd.NaT, "end": pd.NaT}
              for i in range(n)]
    for i in np.flatnonzero(kinds != "normal"):
        effect, first, last = _plant(rng, kinds[i], spec, quiet[0], weekend_factor[i])
        log_y[i] += effect
        labels[i]["start"], labels[i]["end"] = stamps[first], stamps[min(last, n_pos - 1)]
    frame = pd.DataFrame({"series_id": np.repeat([row["series_id"] for row in labels], n_pos),
                          "timestamp": np.tile(stamps, n), "value": np.exp(log_y).ravel()})
    table = pd.DataFrame(labels)
    for c in ("start", "end"):
        table[c] = pd.to_datetime(table[c]).dt.tz_localize("UTC")
    return Suite(spec, frame, table, holidays)


def _noise(rng, n, n_pos, per_day):
    """Gaussian noise on the log scale, AR(1) from day to day, plus (hourly) independent hourly noise."""
    days = n_pos // per_day
    sigma_day = rng.uniform(0.03, 0.10, n) if per_day == 1 else rng.uniform(0.02, 0.06, n)
    phi = rng.uniform(0.0, 0.4, n)
    shocks = rng.normal(size=(n, days)) * sigma_day[:, None] * np.sqrt(1 - phi[:, None] ** 2)
    daily = np.empty_like(shocks)
    daily[:, 0] = shocks[:, 0] / np.sqrt(1 - phi ** 2)
    for d in range(1, days):
        daily[:, d] = phi * daily[:, d - 1] + shocks[:, d]
    noise = np.repeat(daily, per_day, axis=1)
    if per_day > 1:
        hour = np.arange(n_pos) % per_day
        night = ((hour < 7) | (hour > 21)).astype(float)
        sigma_hour = rng.uniform(0.06, 0.15, n)[:, None] * (1 + 0.8 * night[None, :])
        noise = noise + rng.normal(size=(n, n_pos)) * sigma_hour
    return noise


def _plant(rng, kind, spec, quiet, weekend_factor):
    """Log-scale effect of one anomaly, with its labelled window [first, last] in positions."""
    per_day, n_pos = spec.per_day, spec.days * spec.per_day
    week = 7 * per_day
    earliest = (100 if per_day == 1 else 35) * per_day
    first = int(rng.integers(earliest, n_pos - (40 if per_day == 1 else 14) * per_day))
    effect = np.zeros(n_pos)
    positions = np.arange(n_pos)
    if kind == "spike":
        length = 1 if per_day == 1 else int(rng.integers(1, 4))
        effect[first:first + length] = np.log(rng.uniform(1.8, 4.0) if per_day == 1 else rng.uniform(2.5, 6.0))
        return effect, first, first + length - 1
    if kind == "runaway_loop":
        if per_day == 1:
            length = int(rng.integers(1, 4))
            effect[first:first + length] = np.log(1 + rng.uniform(1.0, 5.0))
        else:
            first = (first // per_day) * per_day + int(rng.integers(8, 18))
            length = int(rng.integers(3, 19))
            effect[first:first + length] = np.log(rng.uniform(3.0, 10.0))
        return effect, first, first + length - 1
    if kind in ("level_shift", "price_step"):
        if kind == "level_shift":
            size = rng.uniform(1.3, 2.0) if rng.random() < 0.7 else rng.uniform(0.45, 0.75)
        else:
            size = rng.uniform(1.2, 1.6)
        effect[first:] = np.log(size)
        return effect, first, first + week - 1
    if kind in ("drift", "prompt_bloat"):
        ramp_days = int(rng.integers(14, 29)) if kind == "drift" else int(rng.integers(3, 8))
        size = rng.uniform(1.4, 2.0) if kind == "drift" else rng.uniform(1.3, 1.8)
        ramp = np.clip((positions - first + 1) / (ramp_days * per_day), 0.0, 1.0)
        effect = np.log(size) * ramp
        return effect, first, first + ramp_days * per_day + week - 1
    if kind == "pattern_break":
        # The workload stops following the business calendar: weekends and holidays rise to weekday level.
        first = (first // week) * week + 5 * per_day - (pd.Timestamp(spec.start).day_of_week * per_day)
        first = first if first >= earliest else first + week
        lift = -np.log(weekend_factor) * rng.uniform(0.8, 1.0)
        effect[first:] = np.where(quiet[first:], lift, 0.0)
        return effect, first, first + 3 * week - 1
    raise ValueError(kind)
