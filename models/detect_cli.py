"""`costwarden detect`: with --series, find anomalies in a CSV series a user brings and write one row per anomaly.

Reads timestamp,value[,series_id]; every input problem is one line naming the file, the row and the fix. Without
--series the warehouse's series are judged and stored (models/detect_warehouse.py).
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from costwarden.errors import BadInputError, CostwardenError, SourceError
from models.anomaly import AnomalyDetector

OUTPUT_COLUMNS = ["series_id", "start", "end", "first_alert_at", "expected", "actual", "impact", "impact_pct",
                  "score", "severity", "status", "min_history_met"]


def run_detect(args, settings, warehouse: str) -> int:
    if not getattr(args, "series", None):
        from models.detect_warehouse import detect_warehouse

        report = detect_warehouse(settings, warehouse, now=getattr(args, "now", None))
        print(report.summary())
        return 0
    path = Path(args.series)
    frame = read_series(path)
    anomaly = getattr(settings, "anomaly", None)
    detector = AnomalyDetector(holidays=tuple(anomaly.holidays) if anomaly else (),
                               month_days=tuple(anomaly.month_start_days) if anomaly else (1, 2, 3, -1),
                               min_history_days=anomaly.min_history_days if anomaly else 28)
    found = detector.fit(frame).detect(frame)
    text = format_anomalies(found)
    if getattr(args, "out", None):
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    print(summary(found, detector.series_status_, path), file=sys.stderr)
    return 0


def read_series(path: Path) -> pd.DataFrame:
    """The CSV as a long frame; raises a one-line BadInputError naming the row for any problem."""
    if not path.is_file():
        raise SourceError(f"{path} does not exist; give a CSV file with columns timestamp,value[,series_id].")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise BadInputError(f"{path} is not a readable CSV ({str(exc).splitlines()[0]}); save it as UTF-8 CSV with "
                            "a header row timestamp,value[,series_id].") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in ("timestamp", "value") if c not in raw.columns]
    if missing:
        raise BadInputError(f"{path} has no column {', '.join(repr(c) for c in missing)} (columns found: "
                            f"{', '.join(raw.columns) or 'none'}); the header must name timestamp and value, and "
                            "optionally series_id.")
    if raw.empty:
        raise BadInputError(f"{path} has a header but no rows; add the series' points.")
    # CSV line numbers: the header is line 1, so data row i (0-based) is line i + 2.
    stamps = pd.to_datetime(raw["timestamp"].str.strip(), utc=True, errors="coerce", format="mixed")
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise BadInputError(f"{path} line {row + 2}: timestamp {raw['timestamp'].iloc[row]!r} is not a date or "
                            "time; use ISO 8601 such as 2024-05-01 or 2024-05-01T13:00:00Z.")
    text = raw["value"].str.strip()
    values = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & (text != "").to_numpy())
    if bad.size:
        row = int(bad[0])
        raise BadInputError(f"{path} line {row + 2}: value {raw['value'].iloc[row]!r} is not a number; write "
                            "plain numbers such as 1234.56 (an empty value counts as a missing point).")
    frame = pd.DataFrame({"timestamp": stamps, "value": values})
    if "series_id" in raw.columns:
        frame.insert(0, "series_id", raw["series_id"].str.strip().replace("", "series"))
    _check_regular(frame, path)
    return frame


def _check_regular(frame: pd.DataFrame, path: Path) -> None:
    """Duplicate or off-grid timestamps, named by CSV line, before the detector sees them."""
    ids = frame["series_id"] if "series_id" in frame.columns else pd.Series("series", index=frame.index)
    order = pd.DataFrame({"id": ids, "t": frame["timestamp"]}).sort_values(["id", "t"], kind="stable")
    same = order["id"].eq(order["id"].shift())
    gaps = order["t"].diff().where(same)
    duplicate = gaps.eq(pd.Timedelta(0))
    if duplicate.any():
        line = int(duplicate.idxmax()) + 2
        raise BadInputError(f"{path} line {line}: timestamp {frame['timestamp'].iloc[line - 2]} appears twice in "
                            f"series {ids.iloc[line - 2]!r}; give one value per timestamp.")
    step = gaps.groupby(order["id"]).transform("min")
    off = (gaps.notna() & (gaps.dt.total_seconds() % step.dt.total_seconds() != 0))
    if off.any():
        line = int(off.idxmax()) + 2
        raise BadInputError(f"{path} line {line}: the series {ids.iloc[line - 2]!r} is not regularly sampled "
                            f"({gaps[off.idxmax()]} after the previous point, its interval is {step[off.idxmax()]}); "
                            "resample it to one interval (1 minute to 1 day).")
    too_fine = step.notna() & ((step < pd.Timedelta(minutes=1)) | (step > pd.Timedelta(days=1))
                               | (pd.Timedelta(days=1) % step.fillna(pd.Timedelta(days=1)) != pd.Timedelta(0)))
    if too_fine.any():
        line = int(too_fine.idxmax()) + 2
        raise BadInputError(f"{path} line {line}: series {ids.iloc[line - 2]!r} is sampled every "
                            f"{step[too_fine.idxmax()]}; resample it to an interval from 1 minute to 1 day that "
                            "divides a day (1, 5, 15, 30 minutes, 1 hour, ... 1 day).")


def format_anomalies(found: pd.DataFrame) -> str:
    table = found.reindex(columns=OUTPUT_COLUMNS).copy()
    for c in ("start", "end", "first_alert_at"):
        table[c] = table[c].map(lambda t: "" if pd.isna(t) else pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ"))
    for c in ("expected", "actual", "impact"):
        table[c] = table[c].map(lambda v: "" if pd.isna(v) else f"{v:.6f}")
    for c in ("impact_pct", "score"):
        table[c] = table[c].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    table["min_history_met"] = table["min_history_met"].map(lambda v: "true" if v else "false")
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue()


def summary(found: pd.DataFrame, status: pd.DataFrame, path: Path) -> str:
    alerted = int(found["first_alert_at"].notna().sum()) if len(found) else 0
    open_now = int((found["status"] == "open").sum()) if len(found) else 0
    lines = [f"{path}: {len(status)} series, {len(found)} anomalies ({alerted} alerted, {open_now} open)"]
    for row in status[~status["min_history_met"]].itertuples(index=False):
        lines.append(f"  series {row.series_id!r} has {row.n_points} points; alerts need {row.min_history_points} "
                     f"points of history, so none was raised")
    return "\n".join(lines)
