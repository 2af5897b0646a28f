"""The dashboard's own writes: the audit log, anomaly feedback and recommendation decisions.

They go to a small DuckDB file of their own (never the warehouse, which a build may be writing), opened for the
length of one write and closed again, so a build can import from it in between. `import_into` copies the rows a
warehouse does not have yet; every table here is append-only, so importing twice adds nothing.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb

from costwarden.errors import TransientError
from costwarden.warehouse import sql_root

# Tables the dashboard writes, with the columns that identify a row (for idempotent imports).
IMPORTED = {
    "audit.dashboard_events": ("event_id",),
    "analytics.anomaly_feedback": ("anomaly_id", "user_name", "decided_at", "verdict"),
    "analytics.recommendation_decisions": ("rec_id", "user_name", "decided_at", "action"),
}


def writeback_path(warehouse: str | Path, configured: str = "") -> Path:
    return Path(configured) if configured else Path(str(warehouse) + ".dashboard.duckdb")


def _apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("audit.sql", "analytics.sql"):
        con.execute((sql_root() / "schema" / name).read_text(encoding="utf-8"))


@contextlib.contextmanager
def connect(path: Path, *, wait_seconds: float = 10.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived writing connection; retries while a build is importing from the file."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise TransientError(f"the dashboard's write-back file {path} is busy (a build is importing "
                                     "from it); try again in a moment.") from None
            time.sleep(0.1)
    try:
        con.execute("SET TimeZone = 'UTC'")
        _apply_schema(con)
        yield con
    finally:
        con.close()


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def record_event(path: Path, *, user: str, role: str, via: str, action: str, page: str, scope: str,
                 filters: dict | None = None, export_format: str | None = None, export_rows: int | None = None,
                 export_bytes: int | None = None, snapshot: str | None = None) -> None:
    with connect(path) as con:
        con.execute("insert into audit.dashboard_events values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [str(uuid.uuid4()), now(), user, role, via, action, page, scope,
                     json.dumps(filters or {}, default=str, sort_keys=True), export_format, export_rows,
                     export_bytes, snapshot])


def read(path: Path, sql: str, params: list | None = None):
    """A query on the write-back file (audit log, pending feedback) as a pandas frame; empty before any write."""
    import pandas as pd

    if not path.exists():
        return pd.DataFrame()
    with connect(path) as con:
        return con.execute(sql, params or []).df()


def import_into(con: duckdb.DuckDBPyConnection, path: Path, *, wait_seconds: float = 10.0) -> dict[str, int]:
    """Copy write-back rows the warehouse (`con`, writable) lacks. Returns rows imported per table."""
    if not path.exists():
        return {}
    alias = "cw_writeback"
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as {alias} (READ_ONLY)")
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    imported = {}
    try:
        for table, keys in IMPORTED.items():
            schema, name = table.split(".")
            exists = con.execute("select count(*) from information_schema.tables where table_catalog = ? and "
                                 "table_schema = ? and table_name = ?", [alias, schema, name]).fetchone()[0]
            if not exists:
                continue
            match = " and ".join(f"t.{k} is not distinct from w.{k}" for k in keys)
            before = con.execute(f"select count(*) from {table}").fetchone()[0]
            con.execute(f"insert into {table} by name select w.* from {alias}.{table} as w "
                        f"where not exists (select 1 from {table} as t where {match})")
            imported[table] = con.execute(f"select count(*) from {table}").fetchone()[0] - before
    finally:
        con.execute(f"detach {alias}")
    return imported


def record_feedback(path: Path, anomaly_id: str, verdict: str, user: str, note: str | None = None,
                    anomaly: dict | None = None) -> None:
    """A verdict on an anomaly, through the detector's own function when this build has it. That function checks
    the anomaly exists, so the anomaly's row (from the snapshot, `anomaly`) is placed in this file first."""
    from models.anomaly_feedback import record_feedback as detector_record

    with connect(path) as con:
        if anomaly is not None:
            _seed_anomaly(con, anomaly)
        detector_record(con, anomaly_id, verdict, user, note)


def _seed_anomaly(con: duckdb.DuckDBPyConnection, anomaly: dict) -> None:
    """A local copy of the anomaly's row (only what the table requires); never imported into the warehouse."""
    stamp = now()
    con.execute("""insert into analytics.anomalies (anomaly_id, series_key, metric, grain, scope_kind, scope_value,
                       department, team, start_at, status, last_point_at, severity, alertable, detected_at)
                   values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?) on conflict do nothing""",
                [anomaly["anomaly_id"], anomaly["series_key"], anomaly["metric"], anomaly["grain"],
                 anomaly["scope_kind"], anomaly["scope_value"], anomaly.get("department"), anomaly.get("team"),
                 anomaly["start_at"], anomaly["status"], anomaly["start_at"], anomaly["severity"], stamp])


def _seed_recommendation(con: duckdb.DuckDBPyConnection, rec: dict) -> None:
    """A local copy of the recommendation's row (what the table requires); never imported into the warehouse."""
    con.execute("""insert into analytics.recommendations (rec_id, kind, scope_kind, scope_value, department, team,
                       agent, current_setting, proposed_setting, currency, risk, change, rationale, created_at)
                   values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing""",
                [rec["rec_id"], rec["kind"], rec["scope_kind"], rec["scope_value"], rec.get("department"),
                 rec.get("team"), rec.get("agent"), rec["current_setting"], rec["proposed_setting"], rec["currency"],
                 rec["risk"], rec["change"], rec["rationale"], now()])


def record_decision(path: Path, rec_id: str, action: str, user: str, reason: str | None = None,
                    recommendation: dict | None = None) -> None:
    """Approve or reject a recommendation, through the recommender's lifecycle when this build has it (it checks
    the recommendation exists and the step is allowed, so its row from the snapshot is placed here first)."""
    from models.recommend.lifecycle import decide

    with connect(path) as con:
        if recommendation is not None:
            _seed_recommendation(con, recommendation)
        decide(con, rec_id, action, user, reason)


# The write-back tables a page may overlay, with the key of the row each decision is about (identifiers come only
# from here, never from a page).
PENDING_KEYS = {"analytics.anomaly_feedback": "anomaly_id", "analytics.recommendation_decisions": "rec_id"}


def pending(path: Path, table: str) -> "pd.DataFrame":  # noqa: F821
    """Rows written since the last build (not yet in the snapshot): the newest per key."""
    key = PENDING_KEYS[table]
    return read(path, f"select * from {table} qualify row_number() over (partition by {key} order by decided_at desc)"
                      " = 1")   # DuckDB-only: qualify


def overlay_pending(frame: "pd.DataFrame", path: Path, table: str, columns: dict[str, str]) -> None:  # noqa: F821
    """Show decisions made since the snapshot was published: for rows of `frame` with a newer write-back row, set
    each `frame` column from the write-back column `columns` maps it to (in place)."""
    fresh = pending(path, table)
    if not len(fresh):
        return
    key = PENDING_KEYS[table]
    newer = fresh.set_index(key)
    hit = frame[key].isin(newer.index)
    for target, source in columns.items():
        frame.loc[hit, target] = frame.loc[hit, key].map(newer[source])
