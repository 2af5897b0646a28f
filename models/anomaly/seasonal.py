"""Robust seasonal baseline of many series at once: level, trend, day-of-week and time-of-day profile, noise scale.

Everything is estimated from the cleaned history handed in (flagged points already replaced by what was expected),
with medians, so a few outliers in history move nothing. Matrices are time-major (positions x series) so the pass
reads and writes one contiguous row per step; `rows` restricts an update to some series, which keeps each series'
result independent of the other series on the same grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.anomaly.robust import MAD_TO_SIGMA, nanmad_sigma, nanmedian, theil_sen_slope

ALL = slice(None)


@dataclass(frozen=True)
class Windows:
    """Estimation windows in grid positions (resolved from days by the detector for one sampling interval)."""

    per_day: int
    level_len: int
    profile_weeks: int
    hod_days: int
    trend_blocks: int
    trend_block_len: int
    scale_len: int
    min_scale: float


def window(matrix: np.ndarray, lo: int, hi: int, rows=ALL) -> np.ndarray:
    """Positions lo..hi-1 of a time-major matrix as (series, positions)."""
    return matrix[max(0, lo):hi][:, rows].T


class Baseline:
    def __init__(self, n_series: int, n_positions: int, windows: Windows, holiday: np.ndarray | None = None):
        self.w = windows
        per_day = windows.per_day
        self.hod = np.arange(n_positions) % per_day
        self.day = np.arange(n_positions) // per_day
        self.dow = self.day % 7
        # A holiday's prior is a weekend day: weekend time-of-day shape and the mean weekend day-of-week effect
        # (index 7); what differs from that is learned as the holiday's calendar effect.
        holiday = np.zeros(n_positions, dtype=bool) if holiday is None else holiday
        self.weekend = ((self.dow >= 5) | holiday).astype(np.int8)
        self.dow_or_holiday = np.where(holiday, 7, self.dow)
        self.time_of_day = np.zeros((2, per_day, n_series))     # [weekend?, position in day, series]
        self.day_of_week = np.zeros((8, n_series))       # Monday..Sunday, then the holiday prior
        self.slope = np.zeros(n_series)
        self.sigma = np.full((per_day, n_series), np.nan)
        self.level = np.full(n_series, np.nan)
        self.level_centre = np.zeros(n_series)
        self.cusum_factor = np.ones(n_series)
        self.level_start = np.zeros(n_series, dtype=np.int64)
        # First day each weekday is learned from (moved forward when that weekday's pattern is re-learned).
        self.phase_start = np.zeros((7, n_series), dtype=np.int64)
        self.deseasoned = np.full((n_positions, n_series), np.nan)

    def profile(self, positions: np.ndarray, rows=ALL) -> np.ndarray:
        """Seasonal profile as (series, positions)."""
        tod = self.time_of_day[self.weekend[positions], self.hod[positions]][:, rows]
        return (tod + self.day_of_week[self.dow_or_holiday[positions]][:, rows]).T

    def profile_at(self, t: int) -> np.ndarray:
        return self.time_of_day[self.weekend[t], self.hod[t]] + self.day_of_week[self.dow_or_holiday[t]]

    def expected(self, t: int) -> np.ndarray:
        """Expected (transformed) value at position t, before any calendar effect."""
        return self.level + self.slope * (t - self.level_centre) + self.profile_at(t)

    def record(self, t: int, cleaned_now: np.ndarray) -> None:
        """Keep the deseasonalised cleaned value of position t (what the level is the median of)."""
        self.deseasoned[t] = cleaned_now - self.profile_at(t)

    def refresh(self, cleaned: np.ndarray, rows, lo: int, hi: int) -> None:
        """Recompute kept deseasonalised values of positions lo..hi-1 after the profile or the history changed."""
        lo = max(0, lo)
        if hi > lo:
            fresh = window(cleaned, lo, hi, rows) - self.profile(np.arange(lo, hi), rows)
            if isinstance(rows, slice):
                self.deseasoned[lo:hi] = fresh.T
            else:
                self.deseasoned[lo:hi, rows] = fresh.T

    def update_level(self, t: int, rows=ALL) -> None:
        """Level = median of the deseasonalised cleaned points in the window before t, since the last re-learn."""
        lo = max(0, t - self.w.level_len)
        if t == lo:
            return
        values = window(self.deseasoned, lo, t, rows)
        starts = self.level_start[rows]
        if np.any(starts > lo):
            values = np.where(np.arange(lo, t)[None, :] < starts[:, None], np.nan, values)
        self.level[rows] = nanmedian(values)
        valid = ~np.isnan(values)
        count = valid.sum(axis=1)
        centre = np.full(count.shape, (lo + t - 1) / 2.0)
        partial = np.flatnonzero(count < t - lo)
        if partial.size:
            positions = np.arange(lo, t)[None, :]
            centre[partial] = np.where(count[partial] > 0, (valid[partial] * positions).sum(axis=1)
                                       / np.maximum(count[partial], 1), t)
        self.level_centre[rows] = centre

    def refit(self, cleaned: np.ndarray, residuals: np.ndarray, end: int, rows=ALL) -> None:
        """Re-estimate profile, trend and scale from positions before `end` (a day boundary)."""
        if self.w.per_day > 1:
            self._fit_time_of_day(cleaned, end, rows)
        self._fit_day_of_week(cleaned, end, rows)
        self._fit_trend(cleaned, end, rows)
        self._fit_scale(cleaned, residuals, end, rows)
        self.refresh(cleaned, rows, end - self.w.level_len, end)

    def _days(self, matrix: np.ndarray, end: int, n_days: int, rows) -> tuple[np.ndarray, np.ndarray]:
        """The last `n_days` whole days before `end` as (series, days, per_day), with their day numbers."""
        per_day = self.w.per_day
        last_day = end // per_day
        first_day = max(0, last_day - n_days)
        block = window(matrix, first_day * per_day, last_day * per_day, rows)
        return block.reshape(block.shape[0], last_day - first_day, per_day), np.arange(first_day, last_day)

    def _fit_time_of_day(self, cleaned, end, rows):
        days, numbers = self._days(cleaned, end, self.w.hod_days, rows)
        if days.shape[1] == 0:
            return
        deviation = days - nanmedian(days, min_count=days.shape[2] // 2)[..., None]
        weekend = self.weekend[numbers * self.w.per_day] == 1
        weekday_shape, weekend_shape = (nanmedian(deviation[:, weekend == kind, :].transpose(0, 2, 1), min_count=2)
                                        for kind in (False, True))
        weekday_shape = np.where(np.isnan(weekday_shape), 0.0, weekday_shape)
        weekend_shape = np.where(np.isnan(weekend_shape), weekday_shape, weekend_shape)
        self.time_of_day[:, :, rows] = np.stack([weekday_shape.T, weekend_shape.T])

    def _fit_day_of_week(self, cleaned, end, rows):
        per_day = self.w.per_day
        days, numbers = self._days(cleaned, end, 7 * self.w.profile_weeks, rows)
        n_weeks = days.shape[1] // 7
        if n_weeks < 2:
            return
        days, numbers = days[:, -7 * n_weeks:], numbers[-7 * n_weeks:]
        if per_day == 1:
            daily = days[..., 0]                    # no time-of-day shape at daily grain
        else:
            shape = self.time_of_day[self.weekend[numbers * per_day]][:, :, rows].transpose(2, 0, 1)
            daily = nanmedian(days - shape, min_count=per_day // 2)
        weeks = daily.reshape(daily.shape[0], n_weeks, 7)
        deviation = weeks - nanmedian(weeks, min_count=4)[..., None]
        weekday = numbers[:7] % 7
        learned_from = self.phase_start[weekday][:, rows].T                  # (series, 7 columns)
        day_numbers = numbers.reshape(n_weeks, 7)
        deviation[day_numbers[None, :, :] < learned_from[:, None, :]] = np.nan
        by_column = nanmedian(deviation.transpose(0, 2, 1), min_count=2)     # (series, 7 columns)
        effect = np.zeros_like(by_column)
        effect[:, weekday] = np.where(np.isnan(by_column), 0.0, by_column)
        effect = effect - effect.mean(axis=1, keepdims=True)
        self.day_of_week[:7, rows] = effect.T
        self.day_of_week[7, rows] = effect[:, 5:7].mean(axis=1)

    def _fit_trend(self, cleaned, end, rows):
        block_len = self.w.trend_block_len
        n_blocks = min(self.w.trend_blocks, end // block_len)
        if n_blocks < 3:
            self.slope[rows] = 0.0
            return
        lo = end - n_blocks * block_len
        positions = np.arange(lo, end)
        deseasoned = window(cleaned, lo, end, rows) - self.profile(positions, rows)
        starts = self.level_start[rows]
        if np.any(starts > lo):
            deseasoned[positions[None, :] < starts[:, None]] = np.nan
        blocks = nanmedian(deseasoned.reshape(deseasoned.shape[0], n_blocks, block_len),
                           min_count=block_len // 2 + 1)
        self.slope[rows] = theil_sen_slope(blocks, block_len)

    def _dependence(self, recent: np.ndarray, overall: np.ndarray) -> np.ndarray:
        if self.w.per_day == 1:
            step = MAD_TO_SIGMA * nanmedian(np.abs(np.diff(recent, axis=1)), min_count=10)
            with np.errstate(divide="ignore", invalid="ignore"):       # a constant series has no spread
                rho = np.clip(1.0 - (step / overall) ** 2 / 2.0, 0.0, 0.8)
            factor = np.sqrt((1 + rho) / (1 - rho))
        else:
            block = max(2, self.w.per_day // 4)
            usable = recent.shape[1] // block * block
            sums = recent[:, recent.shape[1] - usable:].reshape(recent.shape[0], -1, block)
            sums = np.where(np.isnan(sums).any(axis=2), np.nan, np.nansum(sums, axis=2))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = nanmad_sigma(sums, min_count=10) / (np.sqrt(block) * overall)
        return np.where(np.isfinite(factor), np.clip(factor, 1.0, 3.0), 1.0)

    def _fit_scale(self, cleaned, residuals, end, rows):
        recent = window(residuals, end - self.w.scale_len, end, rows)
        overall = MAD_TO_SIGMA * nanmedian(np.abs(recent), min_count=10)
        # Residuals that move together (a busy day lifts every hour) make sums of scores drift, so the CUSUM divides
        # scores by the ratio of the spread of sums to what independent residuals would give: from successive
        # differences (lag-1 correlation) at daily grain, from quarter-day block sums below a day.
        self.cusum_factor[rows] = self._dependence(recent, overall)
        if self.w.per_day > 1:
            # Noise differs by hour (quiet nights are noisier on a log scale): pool each hour with its neighbours.
            days, _ = self._days(residuals, end, self.w.scale_len // self.w.per_day, rows)
            pooled = np.concatenate([np.abs(np.roll(days, shift, axis=2)) for shift in (-1, 0, 1)], axis=1)
            by_hour = MAD_TO_SIGMA * nanmedian(pooled.transpose(0, 2, 1), min_count=10)
            sigma = np.where(np.isnan(by_hour), overall[:, None], np.maximum(by_hour, 0.5 * overall[:, None]))
        else:
            sigma = overall[:, None]
        # Too few one-step residuals yet: fall back to the in-sample spread, widened for the estimation error.
        missing = np.flatnonzero(np.isnan(sigma).any(axis=1))
        if missing.size:
            chosen = np.arange(self.sigma.shape[1])[rows][missing]
            lo = max(0, end - self.w.level_len * 4)
            positions = np.arange(lo, end)
            spread = 1.25 * nanmad_sigma(window(cleaned, lo, end, chosen) - self.profile(positions, chosen),
                                         min_count=5)
            sigma[missing] = np.where(np.isnan(sigma[missing]), spread[:, None], sigma[missing])
        self.sigma[:, rows] = np.maximum(sigma, self.w.min_scale).T
