"""Vectorised robust statistics over the last axis of arrays that hold NaN for "no value".

`np.nanmedian` falls back to a slow path when rows hold NaN; sorting once (NaN sorts last) and picking the middle
of the valid values is several times faster on the series x window blocks the causal pass works on.
"""

from __future__ import annotations

import numpy as np

# Scales a median absolute deviation to a standard deviation under a normal distribution.
MAD_TO_SIGMA = 1.4826


def nanmedian(values: np.ndarray, min_count: int = 1) -> np.ndarray:
    """Median of the last axis ignoring NaN; NaN where fewer than `min_count` values are present."""
    width = values.shape[-1]
    if width == 0:
        return np.full(values.shape[:-1], np.nan)
    flat = np.sort(values.reshape(-1, width), axis=-1)
    count = width - np.count_nonzero(np.isnan(flat[:, -1:]) if width == 1 else np.isnan(flat), axis=-1)
    rows = np.arange(flat.shape[0])
    low = flat[rows, np.maximum((count - 1) // 2, 0)]
    high = flat[rows, np.minimum(count // 2, width - 1)]
    median = np.where(count >= max(min_count, 1), (low + high) / 2.0, np.nan)
    return median.reshape(values.shape[:-1])


def nanmad_sigma(values: np.ndarray, min_count: int = 1) -> np.ndarray:
    """Robust standard deviation (scaled median absolute deviation from the median) of the last axis."""
    centre = nanmedian(values, min_count)
    return MAD_TO_SIGMA * nanmedian(np.abs(values - centre[..., None]), min_count)


def theil_sen_slope(blocks: np.ndarray, spacing: float, min_blocks: int = 3) -> np.ndarray:
    """Median of pairwise slopes between block values (series x blocks), per unit of `spacing` between blocks.

    Breaks down only when nearly a third of the blocks are outliers, so one bad week does not tilt the trend.
    Rows with fewer than `min_blocks` valid blocks get a slope of 0 (no trend is safer than a guessed one).
    """
    n_blocks = blocks.shape[-1]
    if n_blocks < 2:
        return np.zeros(blocks.shape[:-1])
    first, second = np.triu_indices(n_blocks, k=1)
    slopes = (blocks[..., second] - blocks[..., first]) / ((second - first) * spacing)
    slope = nanmedian(slopes)
    enough = np.count_nonzero(~np.isnan(blocks), axis=-1) >= min_blocks
    return np.where(enough & np.isfinite(slope), slope, 0.0)
