"""`python -m benchmarks [--only bedrock|cur2|build] [--repeat K] [sizes...]`.

Ingest (bedrock, cur2): prints medians and ratios against DuckDB's raw read of the same files in the same run. Sized
by default to the issue's targets (10M Bedrock records, a 2M-line CUR 2.0 month); needs about 15 GB of free disk.
Build (`--only build`): a generated warehouse of --build-days x --build-requests-per-day requests and
--build-cost-lines cost lines (default 30 x 1M + 1M, the issue's target), full build then incremental build after one
new day, each next to one DuckDB scan-and-group-by of the requests table. The full size takes a long time to
generate and build: try `--build-days 5 --build-requests-per-day 200000 --build-cost-lines 100000` first, and run
the full size at most once or twice. Results go to benchmarks/out/<suite>.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import ingest_bench


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", nargs="?", default="ingest", choices=["ingest", "build"])
    parser.add_argument("--bedrock-records", type=int, default=10_000_000)
    parser.add_argument("--cur-lines", type=int, default=2_000_000)
    parser.add_argument("--build-days", type=int, default=30)
    parser.add_argument("--build-requests-per-day", type=int, default=1_000_000)
    parser.add_argument("--build-cost-lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["bedrock", "cur2", "build"])
    parser.add_argument("--work", type=Path, default=Path("benchmarks/out/work"),
                        help="where generated data and warehouses go (reused between runs)")
    args = parser.parse_args()
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
