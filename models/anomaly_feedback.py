"""People's verdicts on anomalies: `expected` (a known cause, e.g. a batch job), `not_anomaly` (the detector was
wrong) or `planned` (an announced event). Append-only in analytics.anomaly_feedback; the newest verdict per anomaly
counts. Later `costwarden detect` runs keep the anomaly visible with suppressed_by = feedback:<verdict> and never
page it again (alertable false); the dashboard writes through `record_feedback` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from costwarden import db
from costwarden.errors import BadInputError

VERDICTS = ("expected", "not_anomaly", "planned")


@dataclass
class FeedbackReport:
    anomaly_id: str
    verdict: str
    user: str
    series_key: str

    def summary(self) -> str:
        return (f"recorded {self.verdict!r} by {self.user} for {self.anomaly_id} ({self.series_key}); later "
                "`costwarden detect` runs keep it visible but do not page it")


def record_feedback(con, anomaly_id: str, verdict: str, user: str, note: str | None = None,
                    decided_at: datetime | None = None) -> FeedbackReport:
    """Append a verdict on an anomaly that exists in analytics.anomalies, and mark its row at once."""
    if verdict not in VERDICTS:
        raise BadInputError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}; pick the one that fits.")
    if not user or not user.strip():
        raise BadInputError("feedback needs the name of the person giving it (--by NAME).")
    found = con.execute("select series_key from analytics.anomalies where anomaly_id = ?", [anomaly_id]).fetchone()
    if found is None:
        raise BadInputError(f"no anomaly {anomaly_id!r} in analytics.anomalies; copy the id from the dashboard or "
                            "`costwarden query \"select anomaly_id, series_key, start_at from analytics.anomalies\"`.")
    decided_at = decided_at or datetime.utcnow().replace(microsecond=0)
    con.execute("insert into analytics.anomaly_feedback values (?, ?, ?, ?, ?)",
                [anomaly_id, verdict, user.strip(), decided_at, note])
    # The stored row reflects the verdict right away (the next run would set the same).
    con.execute("""update analytics.anomalies set suppressed_by = ?, alertable = false, severity = 'info'
                   where anomaly_id = ?""", [f"feedback:{verdict}", anomaly_id])
    return FeedbackReport(anomaly_id, verdict, user.strip(), found[0])


def latest_verdicts(con) -> dict[str, str]:
    """anomaly_id -> the newest verdict."""
    rows = con.execute("""select anomaly_id, verdict from (
                            select anomaly_id, verdict, row_number() over (
                                partition by anomaly_id order by decided_at desc) as newest
                            from analytics.anomaly_feedback) ranked
                          where newest = 1""").fetchall()
    return dict(rows)


def run_feedback(args, settings, warehouse: str) -> int:
    """The `costwarden feedback` handler."""
    con = db.connect(warehouse)
    try:
        report = record_feedback(con, args.anomaly_id, args.verdict, args.by, args.note)
    finally:
        con.close()
    print(report.summary())
    return 0
