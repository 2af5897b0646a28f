"""The demo's closing report: what was generated, what each source loaded, the billed total per month (checked
against the CUR files written), the ground truth, the build, and where to look next."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from costwarden import db
from costwarden.build import BuildReport
from costwarden.demo.generate import INCIDENTS_FILE, Generated
from costwarden.demo.incidents import incidents, opportunities

CENT = Decimal("0.01")


def billed_by_period(warehouse: str) -> dict:
    con = db.connect(warehouse, read_only=True)
    try:
        return dict(con.execute("select billing_period, sum(billed_cost) from raw.cost_lines "
                                "where source_format = 'cur2' group by 1 order by 1").fetchall())
    finally:
        con.close()


def print_summary(gen: Generated, config: Path, reports: list, build: BuildReport, warehouse: str,
                  port: int) -> bool:
    """Print the report; True when something needs attention (a file not loaded, a bill that does not add up,
    a failing audit)."""
    failed = False
    print(f"generated {gen.requests:,} requests in {gen.seconds:.1f}s: {gen.bedrock_objects:,} Bedrock log objects, "
          f"{gen.gateway_files} LiteLLM spend-log files, CUR 2.0 for {len(gen.deliveries)} billing period(s) "
          f"(the last one delivered twice: partial, then restated in full)")
    print("loaded:")
    for report in reports:
        print("  " + report.line())
        for failure in report.counts.failures:
            print(f"    file not loaded: {failure}")
        failed = failed or report.counts.files_failed > 0
        if report.format == "bedrock" and report.counts.rows_unpriced:
            print("    (the requests without a token price are content-moderator's, served by a provisioned-"
                  "throughput unit that bills per hour, not per token)")
    loaded = billed_by_period(warehouse)
    if loaded or any(r.format == "cur2" for r in reports):
        print("billed (CUR 2.0, USD):")
        for delivery in gen.deliveries:
            period = delivery.period.date()
            in_warehouse = loaded.get(period)
            ok = in_warehouse is not None and in_warehouse.quantize(CENT) == delivery.billed.quantize(CENT)
            failed = failed or not ok
            shown = f"{in_warehouse:,.2f}" if in_warehouse is not None else "not loaded"
            print(f"  {period:%Y-%m}  {shown:>14}  {delivery.rows:,} lines  "
                  f"{'= the CUR files' if ok else f'DIFFERS from the CUR files ({delivery.billed:,.2f})'}")
    print(f"ground truth: {len(incidents(gen.window))} incidents (demo.incidents), "
          f"{len(opportunities(gen.window))} opportunities (demo.opportunities); {gen.root / INCIDENTS_FILE}")
    print(build.summary())
    failed = failed or not build.ok
    print(f"config: {config}")
    print(f"warehouse: {warehouse}   (try: costwarden --warehouse {warehouse} query \"select * from demo.incidents\")")
    print(f"dashboard: http://localhost:{port}")
    return failed
