"""Ingest benchmark: `costwarden ingest` against DuckDB's raw read of the same files, in the same run.

Bedrock: N invocation-log records (gzip JSON lines) vs `CREATE TABLE AS SELECT * FROM read_json(...)`.
CUR 2.0: one month of M line items (Parquet) vs `CREATE TABLE AS SELECT * FROM read_parquet(...)`.
Each step runs in its own process, so its peak RSS is its own; the ratio is raw seconds / costwarden seconds
(1.0 = as fast as DuckDB's raw read; the target is >= 0.5) and medians are over --repeat runs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchmarks.common import Measure, measure, median_of, timed

RAW_JSON = """
import duckdb
con = duckdb.connect({db!r})
con.execute("create table t as select * from read_json({glob!r}, format='newline_delimited')")
print(con.execute("select count(*) from t").fetchone()[0])
"""
RAW_PARQUET = """
import duckdb
con = duckdb.connect({db!r})
con.execute("create table t as select * from read_parquet({glob!r})")
print(con.execute("select count(*) from t").fetchone()[0])
"""
COSTWARDEN = """
from costwarden.config import load_settings
from ingest import runner
report = runner.ingest(load_settings(None, {{}}), {db!r}, {source!r}, {fmt!r}, show_progress=False)
assert report.counts.rows_loaded == {rows}, report.line()
print(report.line())
"""


def _fresh(path: Path) -> str:
    for suffix in ("", ".wal", ".tmp"):
        target = Path(str(path) + suffix)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    return str(path)


def compare(label: str, work: Path, raw_code: str, source: str, fmt: str, rows: int, repeat: int) -> dict:
    raw_runs, cw_runs = [], []
    for _ in range(repeat):
        raw_runs.append(measure(raw_code.format(db=_fresh(work / "raw.duckdb"), glob=_glob(source, fmt))))
        cw_runs.append(measure(COSTWARDEN.format(db=_fresh(work / "cw.duckdb"), source=source, fmt=fmt, rows=rows)))
    raw, cw = median_of(raw_runs), median_of(cw_runs)
    result = {"benchmark": label, "rows": rows, "repeat": repeat,
              "raw_seconds": round(raw.seconds, 2), "raw_rows_per_s": round(rows / raw.seconds),
              "raw_peak_mb": round(raw.peak_mb), "costwarden_seconds": round(cw.seconds, 2),
              "costwarden_rows_per_s": round(rows / cw.seconds), "costwarden_peak_mb": round(cw.peak_mb),
              "ratio_vs_raw": round(raw.seconds / cw.seconds, 3),
              "all_costwarden_seconds": [round(r.seconds, 2) for r in cw_runs],
              "all_raw_seconds": [round(r.seconds, 2) for r in raw_runs]}
    _print(result)
    return result


def _glob(source: str, fmt: str) -> str:
    return f"{source}/**/*.json.gz" if fmt == "bedrock" else f"{source}/**/*.parquet"


def _print(r: dict) -> None:
    print(f"\n{r['benchmark']}: {r['rows']:,} rows, median of {r['repeat']}")
    print(f"  DuckDB raw read : {r['raw_seconds']:8.2f} s  {r['raw_rows_per_s']:>10,} rows/s  peak {r['raw_peak_mb']:,} MB")
    print(f"  costwarden      : {r['costwarden_seconds']:8.2f} s  {r['costwarden_rows_per_s']:>10,} rows/s  "
          f"peak {r['costwarden_peak_mb']:,} MB")
    print(f"  ratio (raw s / costwarden s): {r['ratio_vs_raw']:.2f}  (target >= 0.5; peak target < 2048 MB)",
          flush=True)


def bedrock(work: Path, records: int, repeat: int) -> dict:
    from benchmarks.gen_bedrock import generate

    source = work / f"bedrock-{records}"
    if not source.exists():
        done = timed(f"generated {records:,} Bedrock records")
        generate(source, records)
        done()
    return compare("bedrock invocation logs", work, RAW_JSON, str(source), "bedrock", records, repeat)


def cur2(work: Path, lines: int, repeat: int) -> dict:
    from benchmarks.gen_cur2 import generate

    source = work / f"cur2-{lines}"
    if not source.exists():
        done = timed(f"generated a CUR 2.0 month of {lines:,} line items")
        generate(source, lines)
        done()
    return compare("CUR 2.0 parquet month", work, RAW_PARQUET, str(source), "cur2", lines, repeat)


def save(results: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"\nresults written to {out}")


def run(work: Path, bedrock_records: int, cur_lines: int, repeat: int, only: str | None) -> list[dict]:
    work.mkdir(parents=True, exist_ok=True)
    results = []
    if only in (None, "bedrock"):
        results.append(bedrock(work, bedrock_records, repeat))
    if only in (None, "cur2"):
        results.append(cur2(work, cur_lines, repeat))
    return results


__all__ = ["Measure", "run", "save"]
