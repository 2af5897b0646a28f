"""The intervals every recommendation carries: monthly saving (bootstrap over days) and quality change (Welch)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import NormalDist

import numpy as np

DAYS_PER_MONTH = Decimal("30.4375")     # 365.25 / 12
CENT = Decimal("0.01")
_Z80 = NormalDist().inv_cdf(0.9)         # two-sided 80%: 10% in each tail


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Saving:
    monthly: Decimal          # point estimate: mean daily saving x days per month
    low_80: Decimal
    high_80: Decimal
    days: int                 # days of evidence


def monthly_saving(daily: list[Decimal], samples: int, seed: int) -> Saving:
    """Point estimate and an 80% interval for next month's saving from one value per day of the window.

    The interval is predictive, not just for the mean: each bootstrap draw resamples the window's days (uncertainty
    of the mean) and then draws a month of days from that resample (day-to-day variation of a month's total)."""
    if not daily:
        zero = Decimal(0)
        return Saving(zero, zero, zero, 0)
    values = np.array([float(v) for v in daily])
    point = sum(daily, Decimal(0)) / len(daily) * DAYS_PER_MONTH
    rng = np.random.default_rng(seed)
    n = len(values)
    month = int(DAYS_PER_MONTH)
    resample = rng.integers(0, n, size=(samples, n))
    pick = rng.integers(0, n, size=(samples, month))
    draws = np.take_along_axis(resample, pick, axis=1)
    totals = values[draws].sum(axis=1) * float(DAYS_PER_MONTH) / month
    low, high = np.quantile(totals, [0.1, 0.9])
    return Saving(money(point), money(min(low, float(point))), money(max(high, float(point))), n)


@dataclass(frozen=True)
class QualityChange:
    delta: float | None         # candidate mean - current mean (evaluator score, 0-1)
    low_80: float | None
    high_80: float | None
    lower_bound: float | None   # one-sided lower bound at the configured confidence (the acceptance test)
    evidence: int               # scored requests behind both means


def quality_change(current: tuple[int, float, float], candidate: tuple[int, float, float],
                   confidence: float) -> QualityChange:
    """Welch interval for the difference of two means from (n, mean, sample variance) of each side."""
    (n0, m0, v0), (n1, m1, v1) = current, candidate
    if n0 < 2 or n1 < 2:
        return QualityChange(None if not (n0 and n1) else m1 - m0, None, None, None, int(n0 + n1))
    se = math.sqrt(v0 / n0 + v1 / n1) or 1e-9
    delta = m1 - m0
    z = NormalDist().inv_cdf(confidence)
    return QualityChange(delta, delta - _Z80 * se, delta + _Z80 * se, delta - z * se, int(n0 + n1))
