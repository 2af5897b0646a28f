"""`costwarden recommend`: compute and list recommendations, or record a lifecycle step for one of them."""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal

from costwarden import db
from costwarden.errors import UsageError

# The JSON fields, in order (documented in docs/recommendations.md).
JSON_FIELDS = ("rec_id", "kind", "state", "scope_kind", "scope_value", "department", "team", "agent",
               "current_setting", "proposed_setting", "traffic_share", "currency", "monthly_saving", "saving_low_80",
               "saving_high_80", "quality_change", "quality_low_80", "quality_high_80", "evidence_count",
               "p95_latency_change_ms", "risk", "change", "rationale", "detail", "created_at", "decisions",
               "realised")

_STORED = """
select r.*, coalesce(d.action, 'proposed') as state, d.realised
from analytics.recommendations as r
left join (
    select rec_id, action, realised from analytics.recommendation_decisions
    qualify row_number() over (partition by rec_id order by decided_at desc) = 1
) as d using (rec_id)
order by r.kind = 'evaluate', r.monthly_saving desc nulls last, r.rec_id
"""


def stored(con) -> list[dict]:
    rows = db.fetch_dicts(con, _STORED)
    decisions = db.fetch_dicts(con, "select rec_id, action, user_name, decided_at, reason, applied_on "
                                    "from analytics.recommendation_decisions order by decided_at")
    for row in rows:
        for money in ("monthly_saving", "saving_low_80", "saving_high_80"):
            if row[money] is not None:
                row[money] = row[money].quantize(Decimal("0.01"))
        row["detail"] = json.loads(row["detail"]) if isinstance(row["detail"], str) else row["detail"]
        row["realised"] = json.loads(row["realised"]) if isinstance(row["realised"], str) else row["realised"]
        row["decisions"] = [{k: v for k, v in d.items() if k != "rec_id"} for d in decisions
                            if d["rec_id"] == row["rec_id"]]
    return rows


def _plain(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def as_json(rows: list[dict]) -> str:
    return json.dumps([{f: row.get(f) for f in JSON_FIELDS} for row in rows], indent=1,
                      default=lambda v: _plain(v) if isinstance(v, (Decimal, date)) else str(v))


def as_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "kind", "state", "scope", "current -> proposed", "saving/month (80%)", "quality (n)",
                  "p95 change", "risk", show_lines=True)
    for column in table.columns:
        column.overflow = "fold"
    for r in rows:
        saving = ("-" if r["kind"] == "evaluate" else
                  f"{r['monthly_saving']} {r['currency']}\n({r['saving_low_80']}..{r['saving_high_80']})")
        if r.get("realised"):
            saving += f"\nrealised {r['realised'].get('realised_monthly_saving')}"
        quality = ("-" if r["quality_change"] is None else f"{r['quality_change']:+.3f}") + \
            f" ({r['evidence_count'] or 0})"
        latency = "-" if r["p95_latency_change_ms"] is None else f"{r['p95_latency_change_ms']:+,.0f} ms"
        scope = f"{r['scope_kind']}: {r['scope_value']}" + (f"\nagent {r['agent']}" if r["agent"] else "")
        table.add_row(r["rec_id"], r["kind"], r["state"], scope,
                      f"{r['current_setting']}\n-> {r['proposed_setting']}", saving, quality, latency, r["risk"])
    Console(width=max(140, Console().width)).print(table)


def run_recommend_cli(args, settings, warehouse: str) -> int:
    action = args.action or "list"
    if action == "list":
        return _list(args, settings, warehouse)
    if not args.rec_id:
        raise UsageError(f"`costwarden recommend {action}` needs a recommendation id (see `costwarden recommend`).")
    if not args.by:
        raise UsageError(f"`costwarden recommend {action}` needs --by NAME (who decided).")
    applied_on = None
    if args.applied_on:
        try:
            applied_on = date.fromisoformat(args.applied_on)
        except ValueError:
            raise UsageError(f"--applied-on {args.applied_on!r} is not a date; write YYYY-MM-DD.") from None
    from models.recommend.lifecycle import decide

    con = db.connect(warehouse)
    try:
        result = decide(con, args.rec_id, action, args.by, args.reason, applied_on)
    finally:
        con.close()
    line = f"{result['rec_id']}: {result['action']} by {result['user_name']}"
    if result["applied_on"]:
        line += f" (applied on {result['applied_on']})"
    print(line)
    realised = result.get("realised")
    if realised:
        print(f"  saving: estimated {realised['estimated_monthly_saving']} USD/month (80% "
              f"{realised['estimated_interval_80'][0]}..{realised['estimated_interval_80'][1]}), realised "
              f"{realised['realised_monthly_saving']} over {realised['days_after']} days after application")
        print(f"  quality change: estimated {_num(realised['estimated_quality_change'])}, realised "
              f"{_num(realised['realised_quality_change'])} (scored before {realised['quality_evidence']['before']},"
              f" after {realised['quality_evidence']['after']})")
        print(f"  p95 latency change: estimated {_num(realised['estimated_p95_latency_change_ms'])} ms, realised "
              f"{_num(realised['realised_p95_latency_change_ms'])} ms"
              + (f"; traffic moved {realised['traffic_moved']:.0%}" if "traffic_moved" in realised else ""))
    return 0


def _num(value) -> str:
    return "n/a" if value is None else f"{value:+.4g}"


def _list(args, settings, warehouse: str) -> int:
    if not args.stored:
        from models.recommend.runner import run_recommend

        report = run_recommend(settings, warehouse)
        print(report.summary(), file=sys.stderr)
    con = db.connect(warehouse, read_only=True)
    try:
        rows = stored(con)
    finally:
        con.close()
    if args.format == "json":
        print(as_json(rows))
    elif rows:
        as_table(rows)
    else:
        print("no recommendations: nothing saves at least [recommend] min_monthly_saving with the evidence at hand")
    return 0
