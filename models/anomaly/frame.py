"""Long frame (series_id, timestamp, value) <-> grids: one series x time matrix per sampling interval.

Each series' interval is the smallest gap between its timestamps; every other gap must be a whole multiple of it
(missing points are gaps, not errors). Series sharing an interval and phase are laid on one grid whose position 0
is a Monday 00:00 UTC, so day-of-week and time-of-day of a position never depend on which other series are present.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costwarden.errors import BadInputError

MINUTE_NS = 60 * 10**9
DAY_NS = 24 * 60 * MINUTE_NS
WEEK_NS = 7 * DAY_NS
# 1970-01-05 was a Monday: grids start on a Monday so weekday phases are fixed by the calendar.
MONDAY_NS = 4 * DAY_NS
COLUMNS = ("series_id", "timestamp", "value")
DEFAULT_SERIES_ID = "series"


@dataclass
class Grid:
    """Series that share a sampling interval, as a matrix with NaN where a series has no point."""

    interval_ns: int
    origin_ns: int
    series_ids: np.ndarray
    values: np.ndarray

    @property
    def per_day(self) -> int:
        return DAY_NS // self.interval_ns

    @property
    def n_positions(self) -> int:
        return self.values.shape[1]

    def timestamps(self, positions: np.ndarray) -> pd.DatetimeIndex:
        ns = self.origin_ns + np.asarray(positions, dtype=np.int64) * self.interval_ns
        return pd.DatetimeIndex(pd.to_datetime(ns, unit="ns", utc=True))

    def day_dates(self) -> pd.DatetimeIndex:
        """The UTC date of every day the grid spans (position // per_day indexes it)."""
        n_days = -(-self.n_positions // self.per_day)
        first = (self.origin_ns // DAY_NS) * DAY_NS
        return pd.DatetimeIndex(pd.to_datetime(first + np.arange(n_days, dtype=np.int64) * DAY_NS, unit="ns"))


def normalise(frame: pd.DataFrame | None, what: str = "frame") -> pd.DataFrame:
    """Validate a long frame: series_id (categorical of str), timestamp (int64 ns UTC), value (float64), sorted by
    series then time."""
    if frame is None or frame.empty:
        return pd.DataFrame({"series_id": pd.Categorical([], categories=pd.Index([], dtype=object)),
                             "timestamp": pd.Series([], dtype=np.int64), "value": pd.Series([], dtype=float)})
    missing = [c for c in ("timestamp", "value") if c not in frame.columns]
    if missing:
        raise BadInputError(f"{what} lacks column(s) {', '.join(missing)}; it needs timestamp and value "
                            "(and optionally series_id).")
    stamps = pd.to_datetime(frame["timestamp"], utc=True, errors="coerce")
    if stamps.isna().any():
        row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise BadInputError(f"{what} row {row}: timestamp {frame['timestamp'].iloc[row]!r} is not a date or time; "
                            "use ISO 8601 such as 2024-05-01 or 2024-05-01T13:00:00Z.")
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = values.isna().to_numpy() & frame["value"].notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise BadInputError(f"{what} row {row}: value {frame['value'].iloc[row]!r} is not a number.")
    if "series_id" in frame.columns:
        codes, names = pd.factorize(frame["series_id"], use_na_sentinel=False)
        names = np.asarray([str(name) for name in names], dtype=object)
    else:
        codes, names = np.zeros(len(frame), dtype=np.int64), np.asarray([DEFAULT_SERIES_ID], dtype=object)
    ns = stamps.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    numbers = values.to_numpy(dtype=float)
    in_order = (np.all(codes[1:] >= codes[:-1]) and
                np.all((codes[1:] != codes[:-1]) | (ns[1:] >= ns[:-1]))) if len(codes) > 1 else True
    if not in_order:
        order = np.lexsort((ns, codes))
        codes, ns, numbers = codes[order], ns[order], numbers[order]
    series = pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype=object)) \
        if len(set(names)) == len(names) else pd.Categorical(names[codes])
    return pd.DataFrame({"series_id": series, "timestamp": ns, "value": numbers})


def combine(history: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """History followed by new points; a point given again in `frame` replaces the stored one."""
    if history.empty:
        return frame
    both = pd.concat([history.astype({"series_id": object}), frame.astype({"series_id": object})],
                     ignore_index=True)
    both = both.drop_duplicates(["series_id", "timestamp"], keep="last")
    return normalise(both)


def series_intervals(data: pd.DataFrame) -> pd.Series:
    """Sampling interval (ns) of each series; raises on duplicates, off-grid points and unsupported intervals."""
    series = data["series_id"].cat
    return _intervals(data, series.codes.to_numpy(), np.asarray(series.categories, dtype=object))


def _intervals(data: pd.DataFrame, codes: np.ndarray, names: np.ndarray) -> pd.Series:
    stamps = data["timestamp"].to_numpy()
    same = np.r_[False, codes[1:] == codes[:-1]]
    gaps = np.where(same, np.diff(stamps, prepend=stamps[:1]), 0)
    duplicate = same & (gaps == 0)
    if duplicate.any():
        row = int(np.flatnonzero(duplicate)[0])
        raise BadInputError(f"series {names[codes[row]]!r} has two points at {pd.Timestamp(stamps[row], unit='ns')}; "
                            "give one value per timestamp (sum or average the duplicates first).")
    smallest = np.full(len(names), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, codes[same], gaps[same])
    interval = np.where(smallest == np.iinfo(np.int64).max, DAY_NS, smallest)
    per_row = interval[codes]
    off_grid = same & (gaps % per_row != 0)
    if off_grid.any():
        row = int(np.flatnonzero(off_grid)[0])
        raise BadInputError(f"series {names[codes[row]]!r} is not regularly sampled: the point at "
                            f"{pd.Timestamp(stamps[row], unit='ns')} is {pd.Timedelta(int(gaps[row]))} after the "
                            f"previous one, not a multiple of its interval {pd.Timedelta(int(per_row[row]))}; "
                            "resample it to a regular interval.")
    unsupported = (interval < MINUTE_NS) | (interval > DAY_NS) | (DAY_NS % interval != 0)
    if unsupported.any():
        index = int(np.flatnonzero(unsupported)[0])
        raise BadInputError(f"series {names[index]!r} is sampled every {pd.Timedelta(int(interval[index]))}; the "
                            "detector needs an interval from one minute to one day that divides a day evenly "
                            "(1, 5, 15, 30 minutes, 1 hour, ... 1 day); resample it.")
    return pd.Series(interval, index=names)


def build_grids(data: pd.DataFrame) -> list[Grid]:
    """Lay the series of a normalised frame on one grid per (interval, phase within the interval)."""
    if data.empty:
        return []
    data = data.assign(series_id=data["series_id"].cat.remove_unused_categories())
    codes = data["series_id"].cat.codes.to_numpy().astype(np.int64)
    names = np.asarray(data["series_id"].cat.categories, dtype=object)
    interval = _intervals(data, codes, names).to_numpy()
    stamps = data["timestamp"].to_numpy()
    values = data["value"].to_numpy()
    first_row = np.r_[0, np.flatnonzero(codes[1:] != codes[:-1]) + 1]
    phase = (stamps[first_row] - MONDAY_NS) % interval
    grids = []
    groups = pd.DataFrame({"interval": interval, "phase": phase}).groupby(["interval", "phase"], sort=True)
    for (step, offset), members in groups:
        member = np.zeros(len(names), dtype=bool)
        member[members.index.to_numpy()] = True
        chosen = member[codes]
        sub_codes, sub_stamps = codes[chosen], stamps[chosen]
        weeks = (sub_stamps.min() - offset - MONDAY_NS) // WEEK_NS
        origin = MONDAY_NS + weeks * WEEK_NS + offset
        local, kept = pd.factorize(sub_codes, sort=True)
        positions = (sub_stamps - origin) // step
        matrix = np.full((len(kept), int(positions.max()) + 1), np.nan)
        matrix[local, positions] = values[chosen]
        grids.append(Grid(int(step), int(origin), np.asarray(names[kept], dtype=object), matrix))
    return grids
