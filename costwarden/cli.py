"""The `costwarden` command: parse, call one function, print its report. No logic lives here.

Errors from the product (CostwardenError) print as one `error: ...` line with exit status 1 (2 for usage);
`--debug` shows the traceback of any failure.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from datetime import datetime, timezone
from decimal import Decimal

from costwarden import __version__
from costwarden.config import DEFAULT_WAREHOUSE, Settings, load_settings
from costwarden.errors import CostwardenError, UsageError

EPILOG = """examples:
  costwarden demo                               generate the demo company, load it, open the dashboard
  costwarden ingest s3://billing/cur2/acme      load a CUR 2.0 export (format detected)
  costwarden ingest ./logs --format bedrock     load Bedrock invocation logs from a folder
  costwarden ingest                             load every [[sources]] entry of the config
  costwarden query "select billing_period, sum(billed_cost) from raw.cost_lines group by 1"
  costwarden loads                              what was loaded, when, with read/loaded/quarantined counts
  costwarden export chargeback --month 2026-09 --out chargeback.xlsx   the month's chargeback for finance
  costwarden close 2026-09                      freeze a month's chargeback
  costwarden run                                ingest, build, detect, forecast, recommend, send alerts
  costwarden report --period weekly --send      email the weekly finance report

environment: COSTWARDEN_WAREHOUSE, COSTWARDEN_CONFIG, COSTWARDEN_HASH_SALT, AWS_* (S3), and the variables your
config names for secrets. Docs: README.md and docs/."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 on usage errors; keep that, with our one-line shape
        self.print_usage(sys.stderr)
        _usage_exit(message)


def _usage_exit(message: str):
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="costwarden", description="Cost governance for generative-AI inference: who spent what, "
                     "on which model and agent, was it normal, and how to spend less.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"costwarden {__version__}")
    parser.add_argument("--warehouse", metavar="PATH",
                        help=f"DuckDB warehouse file (env COSTWARDEN_WAREHOUSE, default ./{DEFAULT_WAREHOUSE})")
    parser.add_argument("--config", metavar="FILE", help="TOML config (env COSTWARDEN_CONFIG); see "
                        "costwarden.example.toml")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    # The global options are accepted after the subcommand too (`costwarden ingest x --debug`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--warehouse", metavar="PATH", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add = sub.add_parser

    def add_parser(name, **kwargs):
        return _add(name, parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)

    sub.add_parser = add_parser

    p = sub.add_parser("ingest", help="load billing exports and request logs (exactly once)",
                       description="Load a source into the warehouse. SOURCE is a local file or folder or an "
                       "s3://bucket/prefix; without SOURCE every [[sources]] entry of the config is loaded. "
                       "Re-running is a no-op; a newer CUR/FOCUS delivery replaces its billing period; bad rows go "
                       "to meta.quarantine with a reason.")
    p.add_argument("source", nargs="?", help="file, folder or s3:// URI (omit to use the config's [[sources]])")
    p.add_argument("--format", help="skip detection; one of the formats listed by `costwarden formats`")
    p.add_argument("--no-progress", action="store_true", help="no progress display, even on a terminal")
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser("formats", help="list the source formats costwarden can ingest")
    p.set_defaults(handler=cmd_formats)

    p = sub.add_parser("query", help="run a read-only SQL query on the warehouse",
                       description="Run one read-only SQL statement. Useful tables: raw.cost_lines, "
                       "raw.inference_requests, staging.stg_inference_requests, meta.loads, meta.quarantine, "
                       "ref.price_book (see docs/warehouse.md).")
    p.add_argument("sql", help="the SQL statement (quote it)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--limit", type=int, default=1000, help="rows to print in table format (default 1000)")
    p.set_defaults(handler=cmd_query)

    p = sub.add_parser("loads", help="recent loads with read / loaded / quarantined / skipped counts")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(handler=cmd_loads)

    p = sub.add_parser("quarantine", help="rows refused by ingest, with file, line and reason")
    p.add_argument("--load", dest="load_id", help="only this load id (see `costwarden loads`)")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=cmd_quarantine)

    p = sub.add_parser("build", help="rebuild the SQL models (staging, intermediate, marts) and run the audits",
                       description="Refreshes the price book and rules from the config, then recomputes only the days "
                       "whose inputs changed since the last build: days with new or restated loads, days inside the "
                       "effective range of a changed price, days whose org mapping changed. The first build, a new "
                       "costwarden version or changed capacity / shared-cost rules rebuild everything. Prints the "
                       "time per relation and the audits (exit 1 if an audit fails).")
    p.add_argument("--full", action="store_true", help="rebuild every day, whatever changed")
    p.set_defaults(handler=cmd_build)

    p = sub.add_parser("reprice", help="recompute every day from a date on (prices, mapping, allocation), then audit",
                       description="Forces `costwarden build` to recompute every day from --from on, as well as "
                       "anything else that changed. Use it when prices or mappings changed in a way the build "
                       "cannot see, e.g. a corrected price book file. Example: costwarden reprice --from 2026-01-15")
    p.add_argument("--from", dest="from_day", required=True, metavar="YYYY-MM-DD",
                   help="first day to recompute (UTC usage / charge date)")
    p.set_defaults(handler=cmd_reprice)

    p = sub.add_parser("demo", help="generate a realistic demo company, load it, and open the dashboard",
                       description="Generates a seeded demo company (departments, teams, agents, models, 120 days of "
                       "hourly traffic with labelled incidents, matching CUR 2.0 billing and logs), writes it to a "
                       "local S3 server it starts (or a folder with --local), and ingests it through the real code "
                       "paths.")
    p.add_argument("--local", metavar="DIR", help="write the demo files to DIR instead of a local S3 server")
    p.add_argument("--scale", type=float, default=1.0, help="traffic multiplier (1.0 is the default demo size)")
    p.add_argument("--days", type=int, default=120, help="days of history (default 120)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-dashboard", action="store_true", help="do everything but open the dashboard")
    p.add_argument("--port", type=int, default=8501, help="dashboard port (default 8501)")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("detect", help="find anomalies in the warehouse's series, or in a CSV series you bring",
                       description="Without --series: score every series the marts define and store anomalies in "
                       "the warehouse. With --series FILE.csv (columns timestamp,value and optional series_id): "
                       "write one row per anomaly (series_id, start, end, first_alert_at, expected, actual, impact, "
                       "impact_pct, score, severity) to --out or stdout.")
    p.add_argument("--series", metavar="FILE.csv", help="a CSV of timestamp,value[,series_id] to analyse")
    p.add_argument("--out", metavar="FILE.csv", help="where to write anomalies (default: stdout)")
    p.add_argument("--now", type=_utc_time, metavar="TIME", help="judge only data before this UTC time, as a run "
                   "at that moment would have (default: through the day of the newest request)")
    p.set_defaults(handler=cmd_detect)

    p = sub.add_parser("recommend", help="ways to spend less at the same quality; approve, apply and verify them",
                       description="Without an action: compute recommendations from the last [recommend] "
                       "lookback_days of priced\nrequests and the capacity bill, store them in "
                       "analytics.recommendations and print them:\n"
                       "  routing   a cheaper model that meets the quality tolerance and latency SLO (LiteLLM "
                       "snippet)\n"
                       "  evaluate  a shadow test where quality evidence for a cheaper model is missing\n"
                       "  batch     batch inference for scheduled, non-interactive jobs\n"
                       "  caching   prompt caching for large prompts with few cache reads\n"
                       "  capacity  under-used provisioned throughput, or on-demand spend a unit would beat\n"
                       "each with a monthly saving and 80% interval, quality change and evidence, p95 latency "
                       "change, risk and\nthe exact change. Actions record the lifecycle: approve, reject "
                       "(--reason), apply (--applied-on DATE),\nverify (realised saving and quality since the "
                       "applied date). JSON fields: docs/recommendations.md.\n\n"
                       "examples:\n  costwarden recommend\n  costwarden recommend --format json\n"
                       "  costwarden recommend approve rec-2b061d07f6 --by ana\n"
                       "  costwarden recommend apply rec-2b061d07f6 --by ana --applied-on 2026-11-01\n"
                       "  costwarden recommend verify rec-2b061d07f6 --by ana")
    p.add_argument("action", nargs="?", choices=["list", "approve", "reject", "apply", "verify"],
                   help="list (default) or a lifecycle step for REC_ID")
    p.add_argument("rec_id", nargs="?", metavar="REC_ID", help="the recommendation (e.g. rec-2b061d07f6)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--stored", action="store_true", help="list the stored recommendations without recomputing")
    p.add_argument("--by", metavar="NAME", help="who decides (recorded with the decision)")
    p.add_argument("--reason", help="why (required to reject)")
    p.add_argument("--applied-on", metavar="YYYY-MM-DD", help="apply: the date the change went live (default today)")
    p.set_defaults(handler=cmd_recommend)

    p = sub.add_parser("export", help="write a month's chargeback or bill as a FOCUS 1.2 file (csv, parquet, xlsx)",
                       description="Write one billing month for finance. `chargeback`: every billed dollar of the "
                       "month split by department, team, agent and model (FOCUS 1.2 columns plus x_Department, "
                       "x_Team, x_Agent, x_Model, x_CostKind, x_AllocationMethod ...); it adds up to the month's "
                       "bill, and a closed month is served from its frozen snapshot. `focus`: the billed cost lines "
                       "as they came in (CUR, CUR 2.0 or FOCUS), in FOCUS 1.2 form. The format follows the file "
                       "extension; decimals are exact in every format (see docs/attribution.md for Excel).",
                       epilog="examples:\n  costwarden export chargeback --month 2026-09 --out chargeback.parquet\n"
                       "  costwarden export chargeback --month 2026-09 --out research.xlsx "
                       "--scope department=research\n"
                       "  costwarden export focus --month 2026-09 --out bill-2026-09.csv")
    p.add_argument("what", choices=["chargeback", "focus"], help="chargeback (allocated) or focus (the bill)")
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="billing month, e.g. 2026-09")
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.csv, FILE.parquet or FILE.xlsx")
    p.add_argument("--scope", metavar="KEY=VALUE", help="chargeback only: department=NAME or team=NAME")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("close", help="freeze a month's chargeback (later restatements become adjustments)",
                       description="Close a billing month: its chargeback is frozen in ledger.chargeback_snapshots "
                       "(who and when in ledger.closed_months and ledger.close_log). A later restatement of the bill "
                       "for that month never changes it; the difference is booked as cost kind 'adjustment' per "
                       "department and team in the next open month. Run `costwarden build` after ingesting, before "
                       "closing. Reopening is an admin action: --reopen with --reason, logged.",
                       epilog="examples:\n  costwarden close 2026-09\n  costwarden close --list\n"
                       "  costwarden close 2026-09 --reopen --reason \"credit memo CM-12 re-issued\"")
    p.add_argument("month", nargs="?", metavar="YYYY-MM", help="the billing month to close (or reopen)")
    p.add_argument("--list", action="store_true", help="list closed months with who closed them and when")
    p.add_argument("--reopen", action="store_true", help="admin: reopen a closed month (needs --reason)")
    p.add_argument("--reason", help="why (required with --reopen; kept in ledger.close_log)")
    p.add_argument("--by", metavar="NAME", help="who is acting (default: COSTWARDEN_USER, else the login name)")
    p.add_argument("--note", help="a note kept with the closed month (e.g. the invoice number)")
    p.set_defaults(handler=cmd_close)

    p = sub.add_parser("run", help="the whole pipeline once: ingest, build, detect, forecast, recommend, alerts",
                       description="Run every step in order: ingest the configured [[sources]], rebuild the marts, "
                       "detect anomalies, forecast spend against budgets, refresh recommendations, then send the "
                       "alerts that are due. A failed step is reported and the rest still run; a step whose package "
                       "is not installed is skipped. Holds a lock on <warehouse>.lock: a second run (or a scheduled "
                       "job) does not start while one is in progress. Exit status 1 when a step failed.")
    p.add_argument("--only", metavar="STEP", action="append", help="run only this step (repeatable): ingest, build, "
                   "detect, forecast, recommend, alerts")
    p.add_argument("--skip", metavar="STEP", action="append", help="leave out this step (repeatable)")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("schedule", help="run the [[schedule.jobs]] of the config on their cron expressions",
                       description="A long-running scheduler for containers and servers without cron: runs each "
                       "configured job (command run, alerts or report) at its cron times, one at a time, never "
                       "overlapping another run (the same lock as `costwarden run`). SIGTERM or Ctrl-C lets the "
                       "current job finish and stops; a second signal abandons it (its writes roll back). Prefer "
                       "cron or a Kubernetes CronJob? See docs/alerts.md for the equivalent entries.")
    p.add_argument("--list", action="store_true", help="print each job's next run time and exit")
    p.set_defaults(handler=cmd_schedule)

    p = sub.add_parser("alerts", help="send due alerts, retry pending deliveries, list the outbox",
                       description="run: find events in the warehouse (anomalies, budget crossings, data health, "
                       "latency), route them to the [[alerts.subscriptions]], queue and send them (a re-run sends "
                       "nothing twice). send: deliver what is pending in the outbox (retries, or messages a missing "
                       "secret held back). outbox: list pending (default), failed, sent or all messages with their "
                       "last error.")
    p.add_argument("action", choices=["run", "send", "outbox"])
    p.add_argument("--status", choices=["pending", "failed", "sent", "all"], default="pending",
                   help="outbox: which messages to list (default pending)")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=cmd_alerts)

    p = sub.add_parser("report", help="weekly or monthly cost report: print it, write files, or email it",
                       description="KPIs (spend, change vs the previous period, forecast vs budget, unit cost), top "
                       "movers, top anomalies and recommendations with savings, for the last complete week (Mon-Sun) "
                       "or month of data. Without --scope it is the finance report for the whole organisation. "
                       "--out writes HTML, PNG chart, CSV, XLSX and text; --send emails it (HTML with the chart "
                       "inline, CSV and XLSX attached) through [alerts.reports]: finance_recipients, or the "
                       "department's team owners. Without either, the text is printed.")
    p.add_argument("--period", choices=["weekly", "monthly"], default="weekly")
    p.add_argument("--scope", metavar="KIND=VALUE", help="department=NAME or team=NAME")
    p.add_argument("--each-department", action="store_true", help="also one report per department")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="report the last complete period before this day")
    p.add_argument("--out", metavar="DIR", help="write the report files into DIR")
    p.add_argument("--send", action="store_true", help="email the report (once per period and recipient)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("forecast", help="month-end forecasts per scope with 80%% intervals; evaluate budgets",
                       description="Forecast this month's and this quarter's spend for the company, every "
                       "department, team and agent (per billing currency), with an 80% interval, from daily spend in "
                       "marts.allocated_cost (billed cost, or the price-book estimate where no bill has arrived "
                       "yet). Stores them in analytics.forecasts, evaluates the config's [[budgets]] into "
                       "analytics.budget_status and records each newly crossed threshold once in "
                       "analytics.budget_crossings. With --what-if, prints the forecast under that assumption and "
                       "stores nothing. See docs/forecasting.md.",
                       epilog="examples:\n  costwarden forecast\n  costwarden forecast --as-of 2026-10-14\n"
                       "  costwarden forecast --what-if traffic=+10%\n  costwarden forecast --what-if rec=REC-ID "
                       "--format json")
    p.add_argument("--as-of", metavar="DATE", help="forecast as a run on this day would have (YYYY-MM-DD; default: "
                   "the last day with data)")
    p.add_argument("--what-if", action="append", metavar="ASSUMPTION", help="traffic=+10%% (or -15%%) scales "
                   "usage-driven spend for the rest of the period; rec=ID applies a recommendation's monthly "
                   "saving from tomorrow. Repeatable; nothing is stored.")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_forecast)

    p = sub.add_parser("budgets", help="budget status: actual, forecast, %% used, runway, thresholds crossed",
                       description="Show each budget's current period as the last `costwarden forecast` run left it: "
                       "spend so far, the period-end forecast with its 80% interval, % of the budget used and "
                       "forecast, the runway (the day the budget runs out at the current pace) and the thresholds "
                       "crossed. Budgets are [[budgets]] entries in the config.")
    p.add_argument("--all", action="store_true", help="every period since the data starts, not only the current")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_budgets)

    p = sub.add_parser("feedback", help="mark an anomaly as expected, not an anomaly, or planned",
                       description="Record your verdict on an anomaly (ids are in analytics.anomalies and on the "
                       "dashboard). It stays visible but later `costwarden detect` runs never page it again: "
                       "expected = a known, normal cause (a batch job); not_anomaly = the detector was wrong; "
                       "planned = an announced launch or test. Verdicts are appended, the newest counts.")
    p.add_argument("anomaly_id", help="the anomaly's id, e.g. A-1f2e3d4c5b6a7980")
    p.add_argument("--verdict", required=True, choices=["expected", "not_anomaly", "planned"])
    p.add_argument("--note", help="why (shown next to the verdict)")
    p.add_argument("--by", default=os.environ.get("USER", "") or "unknown", metavar="NAME",
                   help="who decides (default: $USER)")
    p.set_defaults(handler=cmd_feedback)

    p = sub.add_parser("dashboard", help="run the Streamlit dashboard; hash a sign-in password; publish a snapshot",
                       description="serve (default): run the dashboard on --port against the newest snapshot of the "
                       "warehouse (every build publishes one, so the dashboard never blocks a build). "
                       "hash-password: print the login_hash for a [[dashboard.users]] entry (reads the password "
                       "from the terminal, or one line of stdin with --stdin; never from the command line). "
                       "publish: publish a snapshot now (after `costwarden detect`/`forecast`/`recommend` run alone).")
    p.add_argument("action", nargs="?", choices=["serve", "hash-password", "publish"], default="serve")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--stdin", action="store_true", help="hash-password: read the password from standard input")
    p.set_defaults(handler=cmd_dashboard)
    return parser


def warehouse_path(args, settings: Settings) -> str:
    return args.warehouse or os.environ.get("COSTWARDEN_WAREHOUSE") or settings.warehouse


# ---- handlers: parse, call one function, print -------------------------------------------------------------------

def cmd_ingest(args, settings: Settings) -> int:
    from ingest import runner

    show = False if args.no_progress else None
    if args.source:
        reports = [runner.ingest(settings, warehouse_path(args, settings), args.source, args.format,
                                 show_progress=show)]
    else:
        if args.format:
            raise UsageError("--format needs a SOURCE; configured sources set their own format.")
        reports = runner.ingest_configured(settings, warehouse_path(args, settings), show_progress=show)
    for report in reports:
        print(report.line())
        for failure in report.counts.failures:
            print(f"  file not loaded: {failure}")
    return 1 if any(r.counts.files_failed for r in reports) else 0


def cmd_formats(args, settings: Settings) -> int:
    from ingest.registry import ingestors

    for name, cls in ingestors().items():
        print(f"{name:12} {cls.family:9} {cls.title}")
    return 0


def cmd_query(args, settings: Settings) -> int:
    from costwarden.queries import run_read_only

    names, rows = run_read_only(warehouse_path(args, settings), args.sql)
    _print_rows(names, rows, args.format, args.limit)
    return 0


def cmd_loads(args, settings: Settings) -> int:
    from costwarden.queries import recent_loads

    names, rows = recent_loads(warehouse_path(args, settings), args.limit)
    if not rows:
        print("no loads yet: run `costwarden ingest SOURCE` or `costwarden demo`")
    for row in map(lambda r: dict(zip(names, r)), rows):
        print(f"{row['started_at']:%Y-%m-%d %H:%M:%S}  {row['status']:6} {row['format']:10} {row['source']}\n"
              f"    files {row['files']} (skipped {row['files_skipped']}, failed {row['files_failed']}); rows read "
              f"{row['rows_read']:,} = loaded {row['rows_loaded']:,} + quarantined {row['rows_quarantined']:,}; "
              f"skipped {row['rows_skipped']:,}; unpriced {row['rows_unpriced']:,}; {row['seconds']}s; "
              f"load {row['load_id']}" + (f"\n    {row['message']}" if row["message"] else ""))
    return 0


def cmd_quarantine(args, settings: Settings) -> int:
    from costwarden.queries import quarantined_rows

    names, rows = quarantined_rows(warehouse_path(args, settings), args.load_id, args.limit)
    _print_rows(names, rows, "table", args.limit)
    return 0


def cmd_build(args, settings: Settings) -> int:
    from costwarden.build import build_warehouse

    report = build_warehouse(settings, warehouse_path(args, settings), full=args.full)
    print(report.summary())
    return 0 if report.ok else 1


def cmd_reprice(args, settings: Settings) -> int:
    from costwarden.build import reprice

    report = reprice(settings, warehouse_path(args, settings), args.from_day)
    print(report.summary())
    return 0 if report.ok else 1


def cmd_demo(args, settings: Settings) -> int:
    from costwarden.demo import run_demo

    return run_demo(args, settings, warehouse_path(args, settings))


def cmd_detect(args, settings: Settings) -> int:
    from models.detect_cli import run_detect

    return run_detect(args, settings, warehouse_path(args, settings))


def cmd_recommend(args, settings: Settings) -> int:
    from models.recommend.cli import run_recommend_cli

    return run_recommend_cli(args, settings, warehouse_path(args, settings))


def cmd_export(args, settings: Settings) -> int:
    from costwarden.export.exports import run_export

    print(run_export(settings, warehouse_path(args, settings), args.what, args.month, args.out, args.scope).summary())
    return 0


def cmd_close(args, settings: Settings) -> int:
    from costwarden.export.ledger import run_close

    print(run_close(settings, warehouse_path(args, settings), args.month, list_only=args.list, reopen=args.reopen,
                    reason=args.reason, by=args.by, note=args.note).summary())
    return 0


def cmd_run(args, settings: Settings) -> int:
    from costwarden.jobs import run_command

    return run_command(settings, warehouse_path(args, settings), args.only, args.skip)


def cmd_schedule(args, settings: Settings) -> int:
    from costwarden.jobs import schedule

    return schedule(settings, warehouse_path(args, settings), list_only=args.list)


def cmd_alerts(args, settings: Settings) -> int:
    from alerts.commands import alerts_command

    return alerts_command(args.action, settings, warehouse_path(args, settings), args.status, args.limit)


def cmd_report(args, settings: Settings) -> int:
    from alerts.commands import report_command

    return report_command(settings, warehouse_path(args, settings), args.period, args.scope, args.out, args.send,
                          args.each_department, args.as_of)


def cmd_forecast(args, settings: Settings) -> int:
    from models.forecast.commands import forecast_command

    return forecast_command(args, settings, warehouse_path(args, settings))


def cmd_budgets(args, settings: Settings) -> int:
    from models.forecast.commands import budgets_command

    return budgets_command(args, settings, warehouse_path(args, settings))


def cmd_feedback(args, settings: Settings) -> int:
    from models.anomaly_feedback import run_feedback

    return run_feedback(args, settings, warehouse_path(args, settings))


def _utc_time(text: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date or time; use ISO 8601 such as 2026-10-01 or "
                                         "2026-10-01T06:00:00Z") from None
    return stamp.astimezone(timezone.utc).replace(tzinfo=None) if stamp.tzinfo else stamp


def cmd_dashboard(args, settings: Settings) -> int:
    from costwarden.serve import dashboard_action

    return dashboard_action(args.action, warehouse_path(args, settings), args.config, settings, port=args.port,
                            from_stdin=args.stdin)


# ---- output ------------------------------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if value is None:
        return ""
    return value if isinstance(value, (int, float, str)) else str(value)


def _print_rows(names: list[str], rows: list[tuple], fmt: str, limit: int) -> None:
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows([[_plain(v) for v in row] for row in rows])
    elif fmt == "json":
        print(json.dumps([{n: _plain(v) for n, v in zip(names, row)} for row in rows], indent=1, default=str))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*names, show_lines=False)
        for column in table.columns:
            column.overflow = "fold"
        for row in rows[:limit]:
            table.add_row(*[str(_plain(v)) for v in row])
        Console(width=max(120, Console().width)).print(table)
        if len(rows) > limit:
            print(f"({len(rows) - limit} more rows; use --limit or --format csv)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        settings = load_settings(args.config)
        return args.handler(args, settings)
    except CostwardenError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: nothing of the unfinished run was kept.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line unless --debug
        if args.debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback, and "
              "please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
