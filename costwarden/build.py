"""`costwarden build` and `costwarden reprice`: refresh reference data, rebuild the SQL models, run the audits.

A build is incremental by day when it can be (costwarden.incremental plans which days changed); the first build, a
new costwarden version or changed attribution rules rebuild everything. `reprice --from DATE` forces every day from
DATE on to be recomputed, e.g. after correcting a price that had been applied retroactively outside the config.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import duckdb

from costwarden import db, incremental, reference
from costwarden.config import Settings
from costwarden.errors import UsageError, WarehouseError
from costwarden.warehouse import AuditResult, BuildStep, build_relations, out_of_memory, run_audits
from dashboard.snapshot import after_build
from models.attribution.fx import missing_rate_note


@dataclass
class BuildReport:
    built: list[str]
    audits: list[AuditResult]
    seconds: float
    plan: incremental.BuildPlan | None = None
    steps: list[BuildStep] = field(default_factory=list)
    audit_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)   # warnings that are not audit failures (e.g. missing FX rates)
    snapshot: str = ""      # what the dashboard snapshot step did (dashboard/snapshot.py)

    @property
    def ok(self) -> bool:
        return all(a.failing_rows == 0 for a in self.audits)

    def summary(self) -> str:
        lines = [f"built {len(self.built)} relations in {self.seconds:.1f}s"]
        if self.plan:
            lines.append(f"  {self.plan.describe()}")
        for step in self.steps:
            rows = "" if step.rows is None else f"  {step.rows:>12,} rows"
            lines.append(f"  {step.relation:<44} {step.action:<5} {step.seconds:7.2f}s{rows}")
        if self.steps:
            lines.append(f"  {'audits':<44} {'':<5} {self.audit_seconds:7.2f}s")
        for audit in self.audits:
            state = "ok" if audit.failing_rows == 0 else f"FAILED ({audit.failing_rows} rows, e.g. {audit.sample[:2]})"
            lines.append(f"  audit {audit.name}: {state}")
        lines += [f"  note: {note}" for note in self.notes]
        if self.snapshot:
            lines.append(f"  {self.snapshot}")
        return "\n".join(lines)


def build_warehouse(settings: Settings, warehouse: str, reprice_from: date | None = None,
                    full: bool = False, publish_snapshot: bool = True) -> BuildReport:
    """`publish_snapshot=False` when the caller publishes the dashboard snapshot itself after more steps (`run`,
    the demo): one copy of the marts instead of two."""
    started = time.perf_counter()
    started_at = datetime.now(timezone.utc).replace(tzinfo=None)
    con = db.connect(warehouse, memory_limit=settings.build.memory_limit, threads=settings.build.threads)
    try:
        with db.transaction(con):
            reference.refresh(con, settings)
            build_plan = incremental.plan(con, reprice_from=reprice_from, full=full)
            incremental.set_scope(con, build_plan.days)
            result = build_relations(con, incremental=build_plan.incremental)
            incremental.record(con, build_plan, started_at, time.perf_counter() - started)
        audit_started = time.perf_counter()
        audits = run_audits(con, scoped=build_plan.incremental)
        audit_seconds = time.perf_counter() - audit_started
        notes = [note for note in [missing_rate_note(con)] if note]
        snapshot = after_build(con, settings, warehouse, should_publish=publish_snapshot)
    except duckdb.OutOfMemoryException:
        raise WarehouseError(out_of_memory("the build")) from None
    finally:
        con.close()
    return BuildReport(result.built, audits, time.perf_counter() - started, build_plan, result.steps, audit_seconds,
                       notes, snapshot)


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date for `reprice --from`, or a one-line error saying what to type."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--from {text!r} is not a date: give the first day to recompute as YYYY-MM-DD, "
                         "e.g. --from 2026-01-15.") from None


def reprice(settings: Settings, warehouse: str, from_day: str) -> BuildReport:
    """Recompute every day from `from_day` on (plus whatever else changed), then run the audits."""
    return build_warehouse(settings, warehouse, reprice_from=parse_day(from_day))
