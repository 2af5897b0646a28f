"""`RollingZScoreDetector`: the plain baseline every benchmark compares against, with the same API and records.

A point's score is its distance from the mean of the trailing window in standard deviations of that window; a point
beyond `threshold` alerts. No seasonality, no robustness, no persistence: it is what a dashboard rule would do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.anomaly.detector import SeriesDetector, positions
from models.anomaly.frame import Grid
from models.anomaly.intervals import PointValues


class RollingZScoreDetector(SeriesDetector):
    def __init__(self, *, window_days: float = 28, threshold: float = 3.0, min_history_days: float = 28,
                 merge_gap_days: float | None = None, aggregate: str = "sum"):
        self.window_days = window_days
        self.threshold = threshold
        self.min_history_days = min_history_days
        self.merge_gap_days = merge_gap_days
        self.aggregate = aggregate

    def _merge_gap(self, grid: Grid) -> int:
        days = self.merge_gap_days if self.merge_gap_days is not None else (3 if grid.per_day == 1 else 0.5)
        return positions(days, grid.per_day)

    def _score_grid(self, grid: Grid) -> tuple[PointValues, int]:
        size = positions(self.window_days, grid.per_day)
        min_history = positions(self.min_history_days, grid.per_day)
        by_time = pd.DataFrame(grid.values.T)
        rolling = by_time.rolling(size, min_periods=max(3, size // 2))
        mean = rolling.mean().shift(1).to_numpy().T
        std = rolling.std().shift(1).to_numpy().T
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(std > 0, (grid.values - mean) / std, np.nan)
        observed = ~np.isnan(grid.values)
        seen_before = np.cumsum(observed, axis=1) - observed
        would = np.abs(np.nan_to_num(score)) >= self.threshold
        band = self.threshold * std
        points = PointValues(actual=grid.values, expected=mean, low=mean - band, high=mean + band, score=score,
                             flagged=would, would_alert=would, alert=would & (seen_before >= min_history))
        return points, min_history
