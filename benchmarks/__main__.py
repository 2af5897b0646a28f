"""`python -m benchmarks [ingest] [--bedrock-records N] [--cur-lines M] [--repeat K] [--only bedrock|cur2]`;
`python -m benchmarks dashboard --warehouse W --config C [--amplify K]` (see benchmarks/dashboard_bench.py).

Prints medians and ratios against DuckDB's raw read of the same files in the same run; writes JSON results to
benchmarks/out/. Sized by default to the issue's targets (10M Bedrock records, a 2M-line CUR 2.0 month); use
smaller sizes for a quick look. Needs about 15 GB of free disk at full size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import ingest_bench


def main() -> None:
    import sys

    if sys.argv[1:2] == ["dashboard"]:
        from benchmarks import dashboard_bench

        return dashboard_bench.main(sys.argv[2:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", nargs="?", default="ingest", choices=["ingest"])
    parser.add_argument("--bedrock-records", type=int, default=10_000_000)
    parser.add_argument("--cur-lines", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["bedrock", "cur2"])
    parser.add_argument("--work", type=Path, default=Path("benchmarks/out/work"),
                        help="where generated data and warehouses go (reused between runs)")
    args = parser.parse_args()
    results = ingest_bench.run(args.work, args.bedrock_records, args.cur_lines, args.repeat, args.only)
    ingest_bench.save(results, Path("benchmarks/out") / f"{args.suite}.json")


if __name__ == "__main__":
    main()
