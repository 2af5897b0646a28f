"""Per-point flags -> anomaly records: flagged points closer than `merge_gap` merge into one interval (a reopened
incident keeps its start, so its identity (series_id, start) is stable across runs), with expected value, band,
actual value, $ and % impact, score, severity, and the first time it could have been raised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.anomaly.frame import Grid

ANOMALY_COLUMNS = ["series_id", "start", "end", "first_alert_at", "expected", "expected_low", "expected_high",
                   "actual", "impact", "impact_pct", "score", "severity", "direction", "status", "min_history_met",
                   "n_points"]
# Severity is the size of the change relative to what was expected (|impact %| at least these bounds).
SEVERITY_BOUNDS = ((100.0, "critical"), (50.0, "high"), (20.0, "medium"))


@dataclass
class PointValues:
    """Per-position values on the original scale (series x positions) and the pass's flags."""

    actual: np.ndarray
    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    score: np.ndarray
    flagged: np.ndarray
    would_alert: np.ndarray
    alert: np.ndarray


def severity(impact_pct: np.ndarray) -> np.ndarray:
    size = np.abs(np.nan_to_num(impact_pct, nan=np.inf))
    labels = np.full(size.shape, "low", dtype=object)
    for bound, label in reversed(SEVERITY_BOUNDS):
        labels[size >= bound] = label
    return labels


def empty_anomalies() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ANOMALY_COLUMNS})


def anomalies(grid: Grid, points: PointValues, merge_gap: int, aggregate: str = "sum") -> pd.DataFrame:
    rows, cols = np.nonzero(points.flagged)
    if rows.size == 0:
        return empty_anomalies()
    new_run = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] - cols[:-1] > merge_gap + 1)]
    firsts = np.flatnonzero(new_run)
    lasts = np.r_[firsts[1:] - 1, rows.size - 1]
    keep = np.logical_or.reduceat(points.would_alert[rows, cols], firsts)
    alert_at = np.where(points.alert[rows, cols], cols, np.iinfo(np.int64).max)
    first_alert = np.minimum.reduceat(alert_at, firsts)
    scores = np.nan_to_num(points.score[rows, cols])
    peak = np.maximum.reduceat(np.abs(scores), firsts)
    direction = np.sign(np.add.reduceat(scores, firsts))
    # Only runs holding a point that met an alert rule are anomalies; lone points past the threshold are not.
    run_rows, starts, ends, first_alert, peak, direction = (
        a[keep] for a in (rows[firsts], cols[firsts], cols[lasts], first_alert, peak, direction))
    if run_rows.size == 0:
        return empty_anomalies()
    totals = {name: _interval_sums(getattr(points, name), run_rows, starts, ends)
              for name in ("actual", "expected", "low", "high")}
    if aggregate == "mean":
        counts = _interval_sums(np.where(np.isnan(points.actual), np.nan, 1.0), run_rows, starts, ends)
        totals = {k: v / np.maximum(counts, 1) for k, v in totals.items()}
    impact = totals["actual"] - totals["expected"]
    with np.errstate(divide="ignore", invalid="ignore"):
        impact_pct = np.where(totals["expected"] != 0, 100.0 * impact / np.abs(totals["expected"]), np.nan)
    last_seen = _last_observed(points.actual)[run_rows]
    alerted = first_alert != np.iinfo(np.int64).max
    frame = pd.DataFrame({
        "series_id": grid.series_ids[run_rows],
        "start": grid.timestamps(starts),
        "end": grid.timestamps(ends),
        "first_alert_at": pd.Series(grid.timestamps(np.where(alerted, first_alert, 0))).where(alerted, pd.NaT),
        "expected": totals["expected"], "expected_low": totals["low"], "expected_high": totals["high"],
        "actual": totals["actual"], "impact": impact, "impact_pct": impact_pct,
        "score": peak * np.where(direction < 0, -1.0, 1.0), "severity": severity(impact_pct),
        "direction": np.where(direction < 0, "down", "up"),
        "status": np.where(ends >= last_seen, "open", "closed"),
        "min_history_met": alerted, "n_points": ends - starts + 1,
    })
    return frame[ANOMALY_COLUMNS]


def _interval_sums(matrix: np.ndarray, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Sum of matrix[row, start..end] per interval, missing values counting as nothing."""
    unique_rows, inverse = np.unique(rows, return_inverse=True)
    cumulative = np.zeros((unique_rows.size, matrix.shape[1] + 1))
    np.cumsum(np.nan_to_num(matrix[unique_rows]), axis=1, out=cumulative[:, 1:])
    return cumulative[inverse, ends + 1] - cumulative[inverse, starts]


def _last_observed(actual: np.ndarray) -> np.ndarray:
    observed = ~np.isnan(actual)
    last = actual.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)
    return np.where(observed.any(axis=1), last, -1)
