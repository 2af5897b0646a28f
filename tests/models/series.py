"""Small seeded spend-like series for the anomaly tests: weekly pattern, noise, optional month-start batch job."""

from __future__ import annotations

import numpy as np
import pandas as pd


def daily_spend(days: int = 160, seed: int = 42, start: str = "2024-01-01", level: float = 100.0,
                weekend: float = 0.5, noise: float = 0.05, month_start: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    stamps = pd.date_range(start, periods=days, freq="D", tz="UTC")
    log_value = np.log(level) + rng.normal(0, noise, days)
    log_value += np.where(np.asarray(stamps.day_of_week) >= 5, np.log(weekend), 0.0)
    log_value += np.where(np.asarray(stamps.day) == 1, np.log(month_start), 0.0)
    return pd.DataFrame({"series_id": "spend", "timestamp": stamps, "value": np.exp(log_value)})


def hourly_spend(days: int = 42, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2024-03-04", periods=days * 24, freq="h", tz="UTC")
    hour = np.asarray(stamps.hour)
    shape = 0.8 * np.exp(-((hour - 14) / 4.0) ** 2)
    weekend = np.where(np.asarray(stamps.day_of_week) >= 5, np.log(0.6), 0.0)
    log_value = np.log(40) + shape + weekend + rng.normal(0, 0.08, len(stamps))
    return pd.DataFrame({"series_id": "hourly", "timestamp": stamps, "value": np.exp(log_value)})


def scaled(frame: pd.DataFrame, day_from: int, factor: float, day_to: int | None = None) -> pd.DataFrame:
    """The frame with values of rows day_from..day_to-1 multiplied by factor."""
    out = frame.copy()
    out.loc[out.index[day_from:day_to], "value"] *= factor
    return out
