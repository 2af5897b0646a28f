"""`python -m benchmarks [ingest|anomaly|forecast] [--bedrock-records N] [--cur-lines M] [--repeat K]
[--only bedrock|cur2]`.

`dashboard --warehouse W --config C [--amplify K]`: every page's data load per role and the first render in
Chromium (benchmarks/dashboard_bench.py).

`forecast [--seed-tune 1] [--seed-report 2] [--demo-warehouse PATH]` (also `--only forecast`): the forecast
backtest (benchmarks/forecast_eval.py).

`anomaly`: 10,000 daily series of 400 days scored by AnomalyDetector, median of --repeat runs, with the rolling
z-score baseline timed on the same frame in the same process (the ratio is what to compare across machines).

Prints medians and ratios against DuckDB's raw read of the same files in the same run; writes JSON results to
benchmarks/out/. Sized by default to the issue's targets (10M Bedrock records, a 2M-line CUR 2.0 month); use
smaller sizes for a quick look. Needs about 15 GB of free disk at full size.
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
    parser.add_argument("suite", nargs="?", default="ingest", choices=["ingest", "anomaly", "recommend"])
    parser.add_argument("--bedrock-records", type=int, default=10_000_000)
    parser.add_argument("--cur-lines", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["bedrock", "cur2", "recommend"],
                        help="one ingest format, or recommend: the held-out recommendation evaluation "
                             "(benchmarks/recommend_eval.py)")
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
    results = ingest_bench.run(args.work, args.bedrock_records, args.cur_lines, args.repeat, args.only)
    ingest_bench.save(results, Path("benchmarks/out") / f"{args.suite}.json")


if __name__ == "__main__":
    main()
