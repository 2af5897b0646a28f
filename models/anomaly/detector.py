"""`AnomalyDetector`: the causal, seasonal, robust detector, with scikit-learn's estimator contract.

`fit(history)` stores the past; `detect(frame)` judges every point causally (history + frame, in time order) and
returns the anomalies that touch the frame. Each run recomputes from the stored points, so a backtest and a daily
run give the same verdicts. Shared plumbing (validation, grids, records) lives in `SeriesDetector`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from models.anomaly.calendar import day_keys, n_keys
from models.anomaly.frame import Grid, build_grids, combine, normalise
from models.anomaly.intervals import PointValues, anomalies, empty_anomalies
from models.anomaly.robust import nanmedian
from models.anomaly.scoring import CausalPass, Rules
from models.anomaly.seasonal import Windows


@dataclass
class GridResult:
    grid: Grid
    points: PointValues
    min_history: int


class SeriesDetector(BaseEstimator):
    """fit / detect / score_points over a long frame; subclasses implement `_score_grid`."""

    aggregate = "sum"

    def fit(self, history: pd.DataFrame | None = None, y=None):
        """Remember `history` (series_id, timestamp, value) as the past of every later `detect`."""
        self.history_ = normalise(history, "history")
        self.n_series_ = int(self.history_["series_id"].nunique())
        return self

    def detect(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Anomalies (one row per interval) that include at least one point of `frame`."""
        results, new = self._run(frame)
        return self._anomalies(results, new)

    def detect_with_points(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """`detect` and `score_points` from one causal pass (the warehouse run stores both)."""
        results, new = self._run(frame)
        return self._anomalies(results, new), self._points(results)

    def _anomalies(self, results: list[GridResult], new: pd.DataFrame) -> pd.DataFrame:
        found = [anomalies(r.grid, r.points, self._merge_gap(r.grid), self.aggregate) for r in results]
        found = [f for f in found if not f.empty]
        if not found:
            return empty_anomalies()
        table = pd.concat(found, ignore_index=True)
        first_new = new.groupby("series_id", observed=True)["timestamp"].min()
        first_new.index = first_new.index.astype(object)
        first_new = pd.to_datetime(first_new, unit="ns", utc=True)
        touches = table["end"] >= table["series_id"].map(first_new)
        return table[touches.fillna(False).to_numpy()].sort_values(["series_id", "start"], ignore_index=True)

    def score_points(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Every observed point with its expected value, band, score and verdict (for charts and tests)."""
        results, _ = self._run(frame)
        return self._points(results)

    @staticmethod
    def _points(results: list[GridResult]) -> pd.DataFrame:
        parts = []
        for r in results:
            rows, cols = np.nonzero(~np.isnan(r.points.actual))
            p = r.points
            parts.append(pd.DataFrame({
                "series_id": r.grid.series_ids[rows], "timestamp": r.grid.timestamps(cols),
                "value": p.actual[rows, cols], "expected": p.expected[rows, cols], "lower": p.low[rows, cols],
                "upper": p.high[rows, cols], "score": p.score[rows, cols], "flagged": p.flagged[rows, cols],
                "alert": p.alert[rows, cols]}))
        if not parts:
            return pd.DataFrame(columns=["series_id", "timestamp", "value", "expected", "lower", "upper", "score",
                                         "flagged", "alert"])
        return pd.concat(parts, ignore_index=True).sort_values(["series_id", "timestamp"], ignore_index=True)

    def _run(self, frame: pd.DataFrame) -> tuple[list[GridResult], pd.DataFrame]:
        check_is_fitted(self, "history_")
        new = normalise(frame, "frame")
        data = combine(self.history_, new)
        data = data[data["series_id"].isin(new["series_id"].unique())]
        results = []
        for grid in build_grids(data):
            points, min_history = self._score_grid(grid)
            results.append(GridResult(grid, points, min_history))
        self.series_status_ = _series_status(results)
        return results, new

    def _score_grid(self, grid: Grid) -> tuple[PointValues, int]:
        raise NotImplementedError

    def _merge_gap(self, grid: Grid) -> int:
        raise NotImplementedError


# (daily, sub-daily) defaults chosen by `python -m benchmarks.anomaly_eval` on its tuning seed (seed 1).
TUNED = {"threshold": (5.0, 4.0), "point_threshold": (6.5, 9.5), "cusum_h": (8.0, 12.0)}


def positions(days: float, per_day: int) -> int:
    return max(1, int(round(days * per_day)))


class AnomalyDetector(SeriesDetector):
    """Robust seasonal detector (see docs/anomaly-detection.md). Lengths are in days unless named otherwise;
    None means the grain's default (daily series / sub-daily series); see TUNED for the decision thresholds."""

    def __init__(self, *, threshold: float | None = None, point_threshold: float | None = None, persist_k: int = 2,
                 persist_n: int = 3, cusum_k: float = 1.0, cusum_h: float | None = None, shift_threshold: float = 1.5,
                 shift_confirm_days: float | None = None, pattern_confirm: int = 2,
                 merge_gap_days: float | None = None, warmup_days: float = 14, min_history_days: float = 28,
                 level_days: float | None = None, profile_weeks: int = 8, trend_weeks: int = 8,
                 scale_days: float | None = None, holidays=(), month_days=(1, 2, 3, -1),
                 offset_frac: float = 0.05, min_scale: float = 0.01, aggregate: str = "sum"):
        self.threshold = threshold
        self.point_threshold = point_threshold
        self.persist_k = persist_k
        self.persist_n = persist_n
        self.cusum_k = cusum_k
        self.cusum_h = cusum_h
        self.shift_threshold = shift_threshold
        self.shift_confirm_days = shift_confirm_days
        self.pattern_confirm = pattern_confirm
        self.merge_gap_days = merge_gap_days
        self.warmup_days = warmup_days
        self.min_history_days = min_history_days
        self.level_days = level_days
        self.profile_weeks = profile_weeks
        self.trend_weeks = trend_weeks
        self.scale_days = scale_days
        self.holidays = holidays
        self.month_days = month_days
        self.offset_frac = offset_frac
        self.min_scale = min_scale
        self.aggregate = aggregate

    def _merge_gap(self, grid: Grid) -> int:
        daily = grid.per_day == 1
        days = self.merge_gap_days if self.merge_gap_days is not None else (3 if daily else 0.5)
        return positions(days, grid.per_day)

    def _plan(self, grid: Grid) -> tuple[Windows, Rules]:
        per_day = grid.per_day
        daily = per_day == 1
        days = lambda value: positions(value, per_day)  # noqa: E731
        windows = Windows(
            per_day=per_day,
            level_len=days(self.level_days if self.level_days is not None else (14 if daily else 3)),
            profile_weeks=self.profile_weeks, hod_days=28,
            trend_blocks=self.trend_weeks if daily else min(28, 7 * self.trend_weeks),
            trend_block_len=7 if daily else per_day,
            scale_len=days(self.scale_days if self.scale_days is not None else (56 if daily else 14)),
            min_scale=self.min_scale)
        pick = lambda value, for_daily, below_daily: (  # noqa: E731
            value if value is not None else (for_daily if daily else below_daily))
        rules = Rules(
            threshold=pick(self.threshold, *TUNED["threshold"]),
            point_threshold=pick(self.point_threshold, *TUNED["point_threshold"]), persist_k=self.persist_k,
            persist_n=self.persist_n, cusum_k=self.cusum_k,
            cusum_h=pick(self.cusum_h, *TUNED["cusum_h"]),
            shift_threshold=self.shift_threshold,
            shift_confirm=days(self.shift_confirm_days if self.shift_confirm_days is not None else
                               (7 if daily else 3)),
            pattern_confirm=self.pattern_confirm, warmup=days(self.warmup_days),
            min_history=days(self.min_history_days), level_every=max(1, per_day // 24),
            refit_every=7 if daily else per_day)
        return windows, rules

    def _score_grid(self, grid: Grid) -> tuple[PointValues, int]:
        windows, rules = self._plan(grid)
        scale = _offsets(grid.values, rules.warmup, self.offset_frac)[:, None]
        z = np.arcsinh(grid.values / (2 * scale))
        keys = day_keys(grid.day_dates(), tuple(self.month_days), set(self.holidays))
        scores = CausalPass(z, keys, n_keys(tuple(self.month_days)), windows, rules).run()
        back = lambda transformed: 2 * scale * np.sinh(transformed)  # noqa: E731
        band = rules.threshold * scores.sigma
        points = PointValues(actual=grid.values, expected=back(scores.expected),
                             low=back(scores.expected - band), high=back(scores.expected + band),
                             score=scores.score, flagged=scores.flagged, would_alert=scores.would_alert,
                             alert=scores.alert)
        return points, rules.min_history


def _offsets(values: np.ndarray, warmup: int, fraction: float) -> np.ndarray:
    """Per-series scale of the asinh transform, from the first `warmup` points only (so it is causal)."""
    observed = ~np.isnan(values)
    first = observed & (np.cumsum(observed, axis=1) <= warmup)
    head = np.where(first, np.abs(values), np.nan)
    typical = fraction * nanmedian(head)
    smallest = np.nanmin(np.where(first & (values != 0), np.abs(values), np.inf), axis=1)
    scale = np.where(typical > 0, typical, smallest)
    return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)


def _series_status(results: list[GridResult]) -> pd.DataFrame:
    parts = []
    for r in results:
        observed = ~np.isnan(r.points.actual)
        count = observed.sum(axis=1)
        seen_before = np.cumsum(observed, axis=1) - observed
        can_alert = observed & (seen_before >= r.min_history)
        first = np.where(can_alert.any(axis=1), np.argmax(can_alert, axis=1), 0)
        parts.append(pd.DataFrame({
            "series_id": r.grid.series_ids, "interval": pd.Timedelta(r.grid.interval_ns),
            "n_points": count, "min_history_points": r.min_history,
            "min_history_met": can_alert.any(axis=1),
            "alerts_possible_from": pd.Series(r.grid.timestamps(first)).where(can_alert.any(axis=1), pd.NaT)}))
    if not parts:
        return pd.DataFrame(columns=["series_id", "interval", "n_points", "min_history_points", "min_history_met",
                                     "alerts_possible_from"])
    return pd.concat(parts, ignore_index=True)
