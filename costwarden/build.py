"""`costwarden build`: refresh reference data, rebuild the SQL models in dependency order, run the audits."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from costwarden import db, reference
from costwarden.config import Settings
from costwarden.warehouse import AuditResult, build, run_audits
from dashboard.snapshot import after_build
from models.attribution.fx import missing_rate_note


@dataclass
class BuildReport:
    built: list[str]
    audits: list[AuditResult]
    seconds: float
    notes: list[str] = field(default_factory=list)   # warnings that are not audit failures (e.g. missing FX rates)
    snapshot: str = ""      # what the dashboard snapshot step did (dashboard/snapshot.py)

    @property
    def ok(self) -> bool:
        return all(a.failing_rows == 0 for a in self.audits)

    def summary(self) -> str:
        lines = [f"built {len(self.built)} relations in {self.seconds:.1f}s"]
        for audit in self.audits:
            state = "ok" if audit.failing_rows == 0 else f"FAILED ({audit.failing_rows} rows, e.g. {audit.sample[:2]})"
            lines.append(f"  audit {audit.name}: {state}")
        lines += [f"  note: {note}" for note in self.notes]
        if self.snapshot:
            lines.append(f"  {self.snapshot}")
        return "\n".join(lines)


def build_warehouse(settings: Settings, warehouse: str) -> BuildReport:
    started = time.perf_counter()
    con = db.connect(warehouse, memory_limit=settings.ingest.memory_limit, threads=settings.ingest.threads)
    try:
        with db.transaction(con):
            reference.refresh(con, settings)
            built = build(con)
        audits = run_audits(con)
        notes = [note for note in [missing_rate_note(con)] if note]
        snapshot = after_build(con, settings, warehouse)
    finally:
        con.close()
    return BuildReport(built, audits, time.perf_counter() - started, notes, snapshot)
