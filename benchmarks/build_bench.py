"""Build benchmark: `costwarden build` (full, then incremental after one new day) against one DuckDB scan-and-group-by
of the requests table, in the same run.

The warehouse is generated straight into raw.* (benchmarks/gen_warehouse.py) once per size and reused; each repeat
copies it, then in fresh processes (so each peak RSS is its own): the baseline scan, a full build, the next day's
load appended (not timed), the baseline again on the grown table, and the incremental build. Ratios are
build seconds / baseline seconds (how many table scans a build costs). Targets (issue 3): full build of 30 days x 1M
requests + 1M cost lines < 60 s and < 4 GB peak on 2 cores; incremental build after one new day < 5 s.
"""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

from benchmarks.common import Measure, measure, timed

BASELINE = """
import duckdb
con = duckdb.connect({db!r}, read_only=True)
print(con.execute("select model, team, count(*), sum(input_tokens), sum(output_tokens) "
                  "from raw.inference_requests group by all").fetchall()[:1])
"""
BUILD = """
from costwarden.build import build_warehouse
from costwarden.config import load_settings
report = build_warehouse(load_settings({config!r}, {{}}), {db!r}, full={full})
print(report.summary())
assert report.ok, report.summary()
assert report.plan.mode == {mode!r}, report.plan.describe()
"""
ADD_DAY = """
from pathlib import Path
from benchmarks.gen_warehouse import add_day
add_day(Path({db!r}), {day}, {per_day}, {lines_per_day})
"""


def run(work: Path, days: int, per_day: int, cost_lines: int, repeat: int) -> dict:
    from benchmarks.gen_warehouse import generate, write_config

    work.mkdir(parents=True, exist_ok=True)
    source = work / f"build-{days}x{per_day}-{cost_lines}.duckdb"
    if not source.exists():
        done = timed(f"generated {days} days x {per_day:,} requests + {cost_lines:,} cost lines")
        generate(source.with_suffix(".partial"), days, per_day, cost_lines)
        source.with_suffix(".partial").rename(source)
        done()
    config = str(write_config(work / "build-bench.toml"))
    db = str(work / "build-run.duckdb")
    runs: dict[str, list[Measure]] = {"baseline": [], "full": [], "baseline_grown": [], "incremental": []}
    for index in range(repeat):
        _remove(db)
        shutil.copyfile(source, db)
        runs["baseline"].append(measure(BASELINE.format(db=db)))
        runs["full"].append(measure(BUILD.format(config=config, db=db, full=True, mode="full")))
        measure(ADD_DAY.format(db=db, day=days, per_day=per_day, lines_per_day=max(cost_lines // days, 1)))
        runs["baseline_grown"].append(measure(BASELINE.format(db=db)))
        runs["incremental"].append(measure(BUILD.format(config=config, db=db, full=False, mode="incremental")))
        print(f"  run {index + 1}: " + ", ".join(f"{k} {v[-1].seconds:.1f}s ({v[-1].cpu_seconds:.1f}s cpu)"
                                               for k, v in runs.items()), flush=True)
        for kind in ("full", "incremental"):    # the build's own per-relation report, for where the time goes
            print(f"  {kind} build report:\n" + "\n".join("    " + line for line in runs[kind][-1].output.splitlines()
                                                         if line and not line.startswith("__BENCH__") and "▕" not in line), flush=True)
    _remove(db)
    result = _summarise(days, per_day, cost_lines, repeat, runs)
    _print(result)
    return result


def _summarise(days, per_day, cost_lines, repeat, runs) -> dict:
    med = {k: statistics.median(m.seconds for m in v) for k, v in runs.items()}
    cpu = {k: statistics.median(m.cpu_seconds for m in v) for k, v in runs.items()}
    peak = {k: max(m.peak_mb for m in v) for k, v in runs.items()}
    return {"benchmark": "build", "days": days, "requests_per_day": per_day, "requests": days * per_day,
            "cost_lines": cost_lines, "repeat": repeat,
            "baseline_seconds": round(med["baseline"], 2), "full_seconds": round(med["full"], 2),
            "baseline_cpu_seconds": round(cpu["baseline"], 2), "full_cpu_seconds": round(cpu["full"], 2),
            "incremental_cpu_seconds": round(cpu["incremental"], 2),
            "full_peak_mb": round(peak["full"]), "full_ratio": round(med["full"] / med["baseline"], 1),
            "baseline_grown_seconds": round(med["baseline_grown"], 2),
            "incremental_seconds": round(med["incremental"], 2), "incremental_peak_mb": round(peak["incremental"]),
            "incremental_ratio": round(med["incremental"] / med["baseline_grown"], 1),
            "all_full_seconds": [round(m.seconds, 2) for m in runs["full"]],
            "all_incremental_seconds": [round(m.seconds, 2) for m in runs["incremental"]]}


def _print(r: dict) -> None:
    print(f"\nbuild: {r['days']} days x {r['requests_per_day']:,} requests ({r['requests']:,}) + "
          f"{r['cost_lines']:,} cost lines, median of {r['repeat']}")
    print(f"  DuckDB scan + group by requests : {r['baseline_seconds']:8.2f} s")
    print(f"  (CPU seconds: scan {r['baseline_cpu_seconds']:.2f}, full build {r['full_cpu_seconds']:.2f}, "
          f"incremental build {r['incremental_cpu_seconds']:.2f}; wall time on a shared machine measures the queue)")
    print(f"  costwarden build (full)         : {r['full_seconds']:8.2f} s  peak {r['full_peak_mb']:,} MB  "
          f"ratio {r['full_ratio']}x the scan  (target < 60 s, < 4096 MB at 30M)")
    print(f"  scan + group by after +1 day    : {r['baseline_grown_seconds']:8.2f} s")
    print(f"  costwarden build (incremental)  : {r['incremental_seconds']:8.2f} s  "
          f"peak {r['incremental_peak_mb']:,} MB  ratio {r['incremental_ratio']}x the scan  (target < 5 s)", flush=True)


def _remove(path: str) -> None:
    for suffix in ("", ".wal"):
        Path(path + suffix).unlink(missing_ok=True)
    shutil.rmtree(path.replace(".duckdb", ".duckdb.tmp"), ignore_errors=True)
