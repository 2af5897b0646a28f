"""The causal pass: judges each position of a grid with only the positions before it, for all series at once.

Expected = baseline (level + trend + profile, seasonal.py) + the calendar effect learned from earlier occurrences of
the same key; score = (actual - expected) / scale. A point alerts when it is beyond `point_threshold`, when
`persist_k` of the last `persist_n` points are beyond `threshold` on the same side, or when a CUSUM of the scores
crosses `cusum_h` (slow drifts, small steps). Points beyond `threshold` are kept out of what the baseline learns
until the change is confirmed as the new normal (a level shift, or one weekday's pattern): then it is re-learned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.anomaly.calendar import HOLIDAY_KEY
from models.anomaly.robust import nanmedian
from models.anomaly.seasonal import Baseline, Windows


@dataclass(frozen=True)
class Rules:
    """Decision rules, with every length already in grid positions."""

    threshold: float
    point_threshold: float
    persist_k: int
    persist_n: int
    cusum_k: float
    cusum_h: float
    shift_threshold: float
    shift_confirm: int
    pattern_confirm: int
    warmup: int
    min_history: int
    level_every: int
    refit_every: int
    # Occurrences of each calendar key remembered (the effect is their median).
    calendar_memory: int = 3
    # A learned calendar effect smaller than this many noise scales is treated as no effect (it is mostly noise).
    calendar_shrink: float = 0.5
    # Caps one point's push on the CUSUM so a single spike cannot alone look like a drift.
    cusum_clip: float = 4.0


@dataclass
class PointScores:
    """Per-position results of a pass (series x positions); `expected` and `sigma` are on the transformed scale."""

    expected: np.ndarray
    sigma: np.ndarray
    score: np.ndarray
    flagged: np.ndarray
    would_alert: np.ndarray
    alert: np.ndarray


class CausalPass:
    """State of the pass; every matrix is time-major (positions x series)."""

    def __init__(self, z: np.ndarray, day_keys: tuple[np.ndarray, np.ndarray], n_keys: int, windows: Windows,
                 rules: Rules):
        self.rules, self.windows = rules, windows
        self.z = np.ascontiguousarray(z.T)
        n_pos, n = self.z.shape
        per_day = windows.per_day
        day_of = np.arange(n_pos) // per_day
        self.is_holiday, self.month_key = day_keys[0][day_of], day_keys[1][day_of]
        self.base = Baseline(n, n_pos, windows, self.is_holiday)
        observed = ~np.isnan(self.z)
        self.seen_before = np.cumsum(observed, axis=0) - observed
        matrix = lambda fill, dtype=float: np.full((n_pos, n), fill, dtype=dtype)  # noqa: E731
        self.cleaned, self.residual, self.effect = matrix(np.nan), matrix(np.nan), matrix(0.0)
        self.was_cleaned = matrix(False, bool)
        self.out = PointScores(matrix(np.nan), matrix(np.nan), matrix(np.nan), matrix(False, bool),
                               matrix(False, bool), matrix(False, bool))
        self.calendar = np.full((n_keys, per_day, rules.calendar_memory, n), np.nan)
        self.calendar_seen = np.zeros((n_keys, per_day, n), dtype=np.int64)
        self.recent_side = np.zeros((rules.persist_n, n), dtype=np.int8)
        self.recent_scores = np.full((rules.shift_confirm, n), np.nan)
        self.cusum_up, self.cusum_down = np.zeros(n), np.zeros(n)
        self.episode_up, self.episode_down = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        self.last_alert_up = np.full(n, -10**9, dtype=np.int64)
        self.last_alert_down = np.full(n, -10**9, dtype=np.int64)
        self.pattern_hits = np.zeros((7, n), dtype=np.int64)
        self.retro_flags: list[tuple[np.ndarray, np.ndarray, int]] = []
        self.stale_level = np.zeros(n, dtype=bool)
        self.pending_refit = np.zeros(n, dtype=bool)
        self.alerting_before = np.zeros(n, dtype=bool)

    def run(self) -> PointScores:
        n_pos = self.z.shape[0]
        per_day = self.windows.per_day
        for t in range(n_pos):
            if t % self.rules.level_every == 0:
                self.base.update_level(t)
                self.stale_level[:] = False
            elif self.stale_level.any():
                rows = np.flatnonzero(self.stale_level)
                self.base.update_level(t, rows)
                self.stale_level[rows] = False
            self.pending_refit[self._judge(t)] = True
            if (t + 1) % per_day != 0:
                continue
            # Refits happen only at day boundaries, so a sub-daily series is judged a whole day on one fit.
            self.pending_refit[self._weekday_pattern_rule(t)] = True
            if (t + 1) % self.rules.refit_every == 0:
                self.base.refit(self.cleaned, self.residual, t + 1)
                self.pending_refit[:] = False
            elif self.pending_refit.any():
                rows = np.flatnonzero(self.pending_refit)
                self.base.refit(self.cleaned, self.residual, t + 1, rows)
                self.pending_refit[rows] = False
        for rows, starts, end in self.retro_flags:
            for row, start in zip(rows, starts):
                self.out.flagged[start:end + 1, row] |= ~np.isnan(self.z[start:end + 1, row])
        out = self.out
        return PointScores(out.expected.T, out.sigma.T, out.score.T, out.flagged.T, out.would_alert.T, out.alert.T)

    def _calendar_keys(self, t: int) -> list[int]:
        keys = [HOLIDAY_KEY] if self.is_holiday[t] else []
        return keys + ([int(self.month_key[t])] if self.month_key[t] >= 0 else [])

    def _key_effect(self, key: int, hod: int, sigma: np.ndarray) -> np.ndarray:
        """Effect of one calendar key from its recent occurrences: the median of three (one incident that fell on a
        month start does not move it), the smaller of two when they agree in sign, or the only one; then shrunk
        toward zero by part of the noise scale, so a key with no real effect learns about nothing."""
        recent = self.calendar[key, hod]
        count = np.count_nonzero(~np.isnan(recent), axis=0)
        ordered = np.sort(recent, axis=0)
        median = nanmedian(recent.T)
        if key == HOLIDAY_KEY and self.windows.per_day > 1:
            # Below a day, a holiday is one day-level effect over the weekend prior: pooling its hours keeps one
            # noisy hour of the last holiday from being expected again.
            pooled = self.calendar[key].reshape(-1, recent.shape[-1])
            median = nanmedian(pooled.T)
            count = np.where(count > 0, 3, 0)
        smaller = np.where(np.abs(ordered[0]) < np.abs(ordered[1]), ordered[0], ordered[1])
        smaller = np.where(np.sign(ordered[0]) == np.sign(ordered[1]), smaller, 0.0)
        typical = np.where(count >= 3, median, np.where(count == 2, smaller, np.nan_to_num(ordered[0])))
        shrunk = np.sign(typical) * np.maximum(np.abs(typical) - self.rules.calendar_shrink * sigma, 0.0)
        return np.where(count > 0, np.nan_to_num(shrunk), 0.0)

    def _record_calendar(self, t: int, keys: list[int], effects: list[np.ndarray], residual: np.ndarray,
                         usable: np.ndarray) -> None:
        """Remember t's residual for each of its keys, net of the other keys' effects."""
        hod = self.base.hod[t]
        rows = np.flatnonzero(usable)
        total = sum(effects)
        for key, effect in zip(keys, effects):
            slot = self.calendar_seen[key, hod, rows] % self.rules.calendar_memory
            self.calendar[key, hod, slot, rows] = (residual - (total - effect))[rows]
            self.calendar_seen[key, hod, rows] += 1

    def _judge(self, t: int) -> np.ndarray:
        r, out, z = self.rules, self.out, self.z[t]
        sigma = self.base.sigma[self.base.hod[t]]
        base_expected = self.base.expected(t)
        keys = self._calendar_keys(t)
        effects = [self._key_effect(key, self.base.hod[t], sigma) for key in keys]
        effect = sum(effects) if keys else np.zeros_like(sigma)
        if keys and keys[0] == HOLIDAY_KEY:
            unlearned_holiday = self.calendar_seen[HOLIDAY_KEY, self.base.hod[t]] == 0
        else:
            unlearned_holiday = np.zeros(len(sigma), dtype=bool)
        expected = base_expected + effect
        history = self.seen_before[t]
        observed = ~np.isnan(z)
        score = (z - expected) / sigma
        valid = (history >= r.warmup) & ~np.isnan(score)
        score[~valid] = np.nan
        judged = valid & ~unlearned_holiday
        active = history >= r.min_history
        size = np.abs(np.where(judged, score, 0.0))
        suspect = size >= r.threshold
        side = np.where(suspect, np.sign(score), 0).astype(np.int8)
        self.recent_side[t % r.persist_n] = side
        persist_up = (side > 0) & ((self.recent_side > 0).sum(axis=0) >= r.persist_k)
        persist_down = (side < 0) & ((self.recent_side < 0).sum(axis=0) >= r.persist_k)
        big = size >= r.point_threshold
        push = np.clip(np.where(judged, score, 0.0) / self.base.cusum_factor, -r.cusum_clip, r.cusum_clip)
        # Before the minimum history the CUSUM stays at zero and only a single extreme point is reported.
        hold = judged & active
        up = np.where(hold, np.maximum(0.0, self.cusum_up + push - r.cusum_k), 0.0)
        down = np.where(hold, np.maximum(0.0, self.cusum_down - push - r.cusum_k), 0.0)
        self.episode_up = np.where((self.cusum_up == 0) & (up > 0), t, self.episode_up)
        self.episode_down = np.where((self.cusum_down == 0) & (down > 0), t, self.episode_down)
        drift_up, drift_down = up > r.cusum_h, down > r.cusum_h
        would_up = (big & (score > 0)) | ((persist_up | drift_up) & active)
        would_down = (big & (score < 0)) | ((persist_down | drift_down) & active)
        would = would_up | would_down
        for alarm, starts in ((drift_up, self.episode_up), (drift_down, self.episode_down)):
            rows = np.flatnonzero(alarm)
            if rows.size:
                self.retro_flags.append((rows, starts[rows].copy(), t))
        # Points without a judgement (missing) keep the running sums; an alarm starts a new episode.
        self.cusum_up = np.where(drift_up, 0.0, np.where(judged | ~active, up, self.cusum_up))
        self.cusum_down = np.where(drift_down, 0.0, np.where(judged | ~active, down, self.cusum_down))
        self.last_alert_up[would_up] = t
        self.last_alert_down[would_down] = t

        out.expected[t], out.sigma[t], out.score[t] = expected, sigma, score
        out.flagged[t] = suspect | would
        out.would_alert[t] = would
        out.alert[t] = would & active
        # Before the minimum history nothing is cleaned: the baseline must first learn what normal looks like.
        clean = suspect & active
        self.was_cleaned[t] = clean
        self.effect[t] = effect
        kept = np.where(clean, base_expected, z - effect)
        kept[unlearned_holiday] = np.nan
        self.cleaned[t] = kept
        self.base.record(t, kept)
        self.residual[t] = np.where(judged & ~suspect, z - expected, np.nan)
        if keys:
            # Learn only from days judged with a real baseline (past the warm-up) and not inside an ongoing
            # incident: those say nothing about the calendar.
            usable = (history >= r.warmup) & ~np.isnan(base_expected) & ~self.alerting_before
            # Nor when the same time the day before was already off (a change that began before this calendar
            # day, possibly before the minimum history, when nothing alerts): its deviation is not the calendar's.
            per_day = self.windows.per_day
            if t >= per_day:
                usable &= ~out.flagged[t - per_day]
            self._record_calendar(t, keys, effects, z - base_expected, usable)
        self.recent_scores[t % r.shift_confirm] = score
        self.alerting_before = np.where(observed, out.alert[t], self.alerting_before)
        return self._level_shift_rule(t, score, active)

    def _level_shift_rule(self, t: int, score: np.ndarray, active: np.ndarray) -> np.ndarray:
        """A change that has held for `shift_confirm` points after an alert is the new normal: re-learn from it."""
        r = self.rules
        window_start = t - r.shift_confirm + 1
        if window_start < 0:
            return np.empty(0, dtype=np.int64)
        now = np.nan_to_num(score)
        candidates = active & (np.abs(now) >= r.shift_threshold) & (
            ((now > 0) & (self.last_alert_up >= window_start)) | ((now < 0) & (self.last_alert_down >= window_start)))
        rows = np.flatnonzero(candidates)
        if rows.size == 0:
            return rows
        recent = self.recent_scores[:, rows] * np.sign(now[rows])
        rows = rows[(recent >= r.shift_threshold).sum(axis=0) >= r.shift_confirm - 1]
        if rows.size == 0:
            return rows
        self.base.level_start[rows] = window_start
        self._unclean(rows, np.arange(window_start, t + 1))
        self._forget_recent(rows)
        self.pattern_hits[:, rows] = 0
        self.stale_level[rows] = True
        return rows

    def _weekday_pattern_rule(self, t: int) -> np.ndarray:
        """A weekday beyond the threshold on the same side `pattern_confirm` weeks running has a new pattern."""
        r, per_day = self.rules, self.windows.per_day
        day = t // per_day
        weekday = day % 7
        scores = self.out.score[t - per_day + 1:t + 1]
        day_score = scores[0] if per_day == 1 else nanmedian(scores.T, min_count=max(1, per_day // 2))
        active = self.seen_before[t] >= r.min_history
        side = np.where(active & (np.abs(np.nan_to_num(day_score)) >= r.threshold), np.sign(day_score), 0)
        hits = self.pattern_hits[weekday]
        hits = np.where(side == 0, 0, np.where(np.sign(hits) == side, hits + side, side)).astype(np.int64)
        self.pattern_hits[weekday] = hits
        rows = np.flatnonzero(np.abs(hits) >= r.pattern_confirm)
        if rows.size == 0:
            return rows
        first_day = day - 7 * (r.pattern_confirm - 1)
        self.base.phase_start[weekday, rows] = first_day
        days = np.arange(first_day, day + 1, 7)
        positions = (days[:, None] * per_day + np.arange(per_day)[None, :]).ravel()
        self._unclean(rows, positions[positions >= 0])
        self.pattern_hits[weekday, rows] = 0
        self._forget_recent(rows)
        self.stale_level[rows] = True
        return rows

    def _unclean(self, rows: np.ndarray, positions: np.ndarray) -> None:
        """Put the actual values of positions that were cleaned back into what the baseline learns from."""
        grid = np.ix_(positions, rows)
        actual = self.z[grid] - self.effect[grid]
        self.cleaned[grid] = np.where(self.was_cleaned[grid], actual, self.cleaned[grid])
        self.was_cleaned[grid] = False
        self.base.refresh(self.cleaned, rows, int(positions.min()), int(positions.max()) + 1)

    def _forget_recent(self, rows: np.ndarray) -> None:
        self.cusum_up[rows] = 0.0
        self.cusum_down[rows] = 0.0
        self.recent_side[:, rows] = 0
        self.recent_scores[:, rows] = np.nan
