"""`python -m benchmarks [SUITE] [--only ...] [--repeat K] [sizes...]`; SUITE is one of:

ingest (default; `--only bedrock|cur2`): medians and ratios against DuckDB's raw read of the same files in the same
  run. Sized by default to the issue's targets (10M Bedrock records, a 2M-line CUR 2.0 month); needs about 15 GB of
  free disk.
build (also `--only build`): a generated warehouse of --build-days x --build-requests-per-day requests and
  --build-cost-lines cost lines (default 30 x 1M + 1M, the issue's target), full build then incremental build after
  one new day, each next to one DuckDB scan-and-group-by of the requests table. Try `--build-days 5
  --build-requests-per-day 200000 --build-cost-lines 100000` first.
anomaly: 10,000 daily series of 400 days scored by AnomalyDetector, median of --repeat runs, with the rolling
  z-score baseline timed on the same frame in the same process.
forecast [--seed-tune 1] [--seed-report 2] [--demo-warehouse PATH] (also `--only forecast`): the forecast backtest.
dashboard --warehouse W --config C [--amplify K]: every page's data load per role and the first render in
  Chromium (benchmarks/dashboard_bench.py).
recommend (also `--only recommend`): the held-out recommendation evaluation (benchmarks/recommend_eval.py).
Results go to benchmarks/out/<suite>.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import ingest_bench


def main() -> None:
    rest = sys.argv[1:]
    if rest[:1] == ["dashboard"]:
        from benchmarks import dashboard_bench

        return dashboard_bench.main(rest[1:])
    if rest[:1] == ["forecast"] or rest[:2] == ["--only", "forecast"]:
        from benchmarks import forecast_eval

        forecast_eval.main(rest[1:] if rest[0] == "forecast" else rest[2:])
        return
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", nargs="?", default="ingest", choices=["ingest", "build", "anomaly", "recommend"])
    parser.add_argument("--bedrock-records", type=int, default=10_000_000)
    parser.add_argument("--cur-lines", type=int, default=2_000_000)
    parser.add_argument("--build-days", type=int, default=30)
    parser.add_argument("--build-requests-per-day", type=int, default=1_000_000)
    parser.add_argument("--build-cost-lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["bedrock", "cur2", "build", "recommend"],
                        help="one ingest format, or the build / recommend suite")
    parser.add_argument("--work", type=Path, default=Path("benchmarks/out/work"),
                        help="where generated data and warehouses go (reused between runs)")
    args = parser.parse_args()
    if args.suite == "recommend" or args.only == "recommend":
        from benchmarks import recommend_eval

        recommend_eval.main([])
        return
    if args.suite == "anomaly":
        from benchmarks import anomaly_bench

        anomaly_bench.save(anomaly_bench.run(repeat=args.repeat), Path("benchmarks/out") / "anomaly.json")
        return
    if args.only == "build" or args.suite == "build":
        from benchmarks import build_bench

        result = build_bench.run(args.work, args.build_days, args.build_requests_per_day, args.build_cost_lines,
                                 args.repeat)
        ingest_bench.save([result], Path("benchmarks/out") / "build.json")
        return
    results = ingest_bench.run(args.work, args.bedrock_records, args.cur_lines, args.repeat, args.only)
    ingest_bench.save(results, Path("benchmarks/out") / f"{args.suite}.json")


if __name__ == "__main__":
    main()
