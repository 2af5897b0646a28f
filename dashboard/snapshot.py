"""Read-only snapshots the dashboard serves, so it never holds the warehouse while `costwarden build`/`run` writes.

DuckDB allows one writing process, and a reader blocks a writer. So each build ends by publishing a copy of what
the pages need (marts, analytics, load and alert health, small summaries of staging; never raw requests) into a
new DuckDB file, written under a temporary name and renamed into place; then a pointer file (CURRENT) is replaced
atomically. The dashboard reads CURRENT once per page render and queries that file read-only, so one page's
numbers always come from one build. Older snapshots are deleted after `keep_snapshots` newer ones exist; a page
still reading one keeps its open file (POSIX unlink semantics).

The dashboard's own writes (audit rows, anomaly feedback, recommendation decisions) go to a separate small file
(dashboard/writeback.py); publishing imports them into the warehouse first, so detection and recommendations see
people's verdicts on their next run. See docs/architecture.md, "Serving while the data changes".
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from costwarden.errors import WarehouseError

POINTER = "CURRENT"
_ALIAS = "cw_snapshot"

# Copied whole (every table or view of these schemas that exists), except the line-level FOCUS marts below.
COPIED_SCHEMAS = ("marts", "analytics")
# Bill lines x allocation targets in FOCUS form: the largest marts by far (one row per line and team/agent/model),
# read by `costwarden export` and `close` from the warehouse, never by a dashboard page (its chargeback download is
# built from marts.allocated_cost). Copying them made most of a publish's time.
NOT_PUBLISHED = {("marts", "chargeback"), ("marts", "chargeback_live"), ("marts", "focus_cost_lines")}
# Copied one by one: (schema, relation, select list). Alert payloads stay behind (bodies, recipients' details).
COPIED_TABLES = (
    ("meta", "loads", "*"),
    ("meta", "billing_periods", "*"),
    ("ref", "fx_rates", "*"),
    ("alerts", "outbox", "* exclude (payload)"),
    ("alerts", "deliveries", "*"),
)

# Small summaries of relations too large to copy, each with its department/team columns so scope applies. {requests}
# is the build's materialised intermediate.int_requests_priced (the org-mapped requests with their price status):
# the staging view would map every request's signature again on each publish. Before the first build (loaded, not
# built) it is the staging view, so the overview can already count what was loaded.
SUMMARIES = {
    "requests_daily": """
        select usage_date as day, department, team, agent, provider, model, model_version, environment, region,
               count(*) as requests,
               count(*) filter (where status <> 'success') as errors,
               count(*) filter (where price_status = 'unpriced') as unpriced_requests,
               count(*) filter (where team_source = 'unmapped') as unmapped_requests,
               sum(total_input_tokens) as input_tokens, sum(output_tokens) as output_tokens
        from {requests} group by all""",
    "unmapped_principals": """
        select coalesce(principal_role, principal_hash, api_key_hash, '(none)') as principal,
               case when principal_role is not null then 'iam_role'
                    when principal_hash is not null then 'principal (hashed)'
                    when api_key_hash is not null then 'api_key (hashed)' else 'none' end as principal_kind,
               department, team, agent, provider, model, count(*) as requests,
               min(occurred_at) as first_seen, max(occurred_at) as last_seen
        from {requests} where team_source = 'unmapped' group by all""",
    "unpriced_models": """
        select provider, model, region, department, team, count(*) as requests,
               min(occurred_at) as first_seen, max(occurred_at) as last_seen
        from {requests} where price_status = 'unpriced' group by all""",
    "billed_by_period": """
        select billing_period, billing_currency, service_category,
               sum(billed_cost) as billed_cost, sum(effective_cost) as effective_cost, count(*) as lines
        from raw.cost_lines group by all""",
    "quarantine_summary": """
        select format, reason, field, count(*) as rows, min(object_uri) as example_object,
               min(line_no) as example_line
        from meta.quarantine group by all""",
    "freshness": """
        select (select max(occurred_at) from raw.inference_requests) as requests_until,
               (select max(charge_period_end) from raw.cost_lines) as bill_until,
               (select max(finished_at) from meta.loads where status = 'ok') as last_load""",
}


def snapshot_dir(warehouse: str | Path, configured: str = "") -> Path:
    return Path(configured) if configured else Path(str(warehouse) + ".snapshots")


def current_snapshot(folder: Path) -> Path | None:
    """The newest published snapshot, or None before the first publish."""
    try:
        name = (folder / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = folder / name
    return path if name and path.exists() else None


def _relations(con: duckdb.DuckDBPyConnection, catalog: str) -> set[tuple[str, str]]:
    rows = con.execute("select table_schema, table_name from information_schema.tables where table_catalog = ?",
                       [catalog]).fetchall()
    return {(s, t) for s, t in rows}


def _copy(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    present = _relations(con, catalog)
    copied = []
    for schema in {*COPIED_SCHEMAS, "serving", "meta", "ref", "alerts"}:
        con.execute(f'create schema if not exists {_ALIAS}."{schema}"')
    for schema, name in sorted(present):
        if schema in COPIED_SCHEMAS and (schema, name) not in NOT_PUBLISHED:
            con.execute(f'create table {_ALIAS}."{schema}"."{name}" as select * from "{catalog}"."{schema}"."{name}"')
            copied.append(f"{schema}.{name}")
    for schema, name, select in COPIED_TABLES:
        if (schema, name) in present:
            con.execute(f'create table {_ALIAS}."{schema}"."{name}" as '
                        f'select {select} from "{catalog}"."{schema}"."{name}"')
            copied.append(f"{schema}.{name}")
    requests = ("intermediate.int_requests_priced" if ("intermediate", "int_requests_priced") in present
                else "staging.stg_inference_requests")
    for name, sql in SUMMARIES.items():
        try:
            con.execute(f'create table {_ALIAS}.serving."{name}" as {sql.format(requests=requests)}')
            copied.append(f"serving.{name}")
        except duckdb.CatalogException:      # a warehouse without that source yet: the page says what fills it
            continue
    _scope_analytics(con)
    con.execute(f"create table {_ALIAS}.serving.snapshot as select ? as published_at, ? as relations",
                [datetime.now(timezone.utc).replace(tzinfo=None), len(copied)])
    return copied


def _scope_analytics(con: duckdb.DuckDBPyConnection) -> None:
    """Give the analytics tables that only point at an anomaly or recommendation the scope of what they point at,
    so the dashboard's scope filter applies to them like to every other table."""
    enrich = {
        "anomaly_points": ("anomalies", "series_key"),
        "anomaly_feedback": ("anomalies", "anomaly_id"),
        "recommendation_decisions": ("recommendations", "rec_id"),
    }
    present = _relations(con, _ALIAS)
    for table, (parent, key) in enrich.items():
        if ("analytics", table) not in present or ("analytics", parent) not in present:
            continue
        con.execute(f"""
            create or replace table {_ALIAS}.analytics.{table} as
            select t.*, s.department, s.team
            from {_ALIAS}.analytics.{table} as t
            left join (select {key}, any_value(department) as department, any_value(team) as team
                       from {_ALIAS}.analytics.{parent} group by {key}) as s using ({key})""")


def publish(con: duckdb.DuckDBPyConnection, warehouse: str | Path, folder: Path, keep: int = 3) -> Path:
    """Copy the serving relations from `con` (an open warehouse connection, read-only or the build's own) into a
    new snapshot file and make it current. Returns the snapshot's path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")   # names sort in publishing order
    final = folder / f"snapshot-{stamp}-{uuid.uuid4().hex[:8]}.duckdb"
    partial = final.with_suffix(".partial")
    catalog = con.execute("select current_database()").fetchone()[0]
    con.execute("SET enable_progress_bar = false")
    con.execute(f"attach '{_sql_string(partial)}' as {_ALIAS} (READ_WRITE)")
    try:
        _copy(con, catalog)
    except BaseException:
        con.execute(f"detach {_ALIAS}")
        partial.unlink(missing_ok=True)
        raise
    con.execute(f"detach {_ALIAS}")          # detaching checkpoints: the file is complete on disk
    _fsync(partial)
    os.replace(partial, final)
    pointer_tmp = folder / f".{POINTER}.{uuid.uuid4().hex[:8]}"
    pointer_tmp.write_text(final.name, encoding="utf-8")
    _fsync(pointer_tmp)
    os.replace(pointer_tmp, folder / POINTER)  # the switch: readers see the old or the new name, never half
    _prune(folder, keep)
    return final


def publish_from_warehouse(warehouse: str | Path, folder: Path, keep: int = 3) -> Path:
    """Publish without a build (a warehouse built before snapshots existed, or `costwarden dashboard publish`)."""
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        raise WarehouseError(f"cannot read warehouse {warehouse} to publish a dashboard snapshot ({exc}); "
                             "run `costwarden build`, which publishes one when it finishes.") from None
    try:
        con.execute("SET TimeZone = 'UTC'")
        return publish(con, warehouse, folder, keep)
    finally:
        con.close()


def _prune(folder: Path, keep: int) -> None:
    snapshots = sorted(folder.glob("snapshot-*.duckdb"))
    for old in snapshots[:-keep]:
        old.unlink(missing_ok=True)
        Path(str(old) + ".wal").unlink(missing_ok=True)
    for stale in folder.glob("snapshot-*.partial"):           # a publish that died half-way
        if stale.stat().st_mtime < datetime.now().timestamp() - 3600:
            stale.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")


def after_build(con: duckdb.DuckDBPyConnection, settings, warehouse: str | Path, should_publish: bool = True) -> str:
    """The one call at the end of a build: import the dashboard's write-backs, then publish a snapshot.

    Never fails the build: a snapshot that cannot be written leaves the previous one serving, and says why."""
    from dashboard import writeback

    dash = settings.dashboard
    notes = []
    try:
        imported = writeback.import_into(con, writeback.writeback_path(warehouse, dash.writeback_file))
        if any(imported.values()):
            notes.append("imported from the dashboard: " + ", ".join(f"{n} {t}" for t, n in imported.items() if n))
    except (duckdb.Error, OSError) as exc:
        notes.append(f"dashboard write-backs not imported this time ({type(exc).__name__}); the next build retries")
    if not should_publish:
        return "; ".join(notes)
    try:
        path = publish(con, warehouse, snapshot_dir(warehouse, dash.snapshot_dir), dash.keep_snapshots)
        notes.append(f"dashboard snapshot {path.name}")
    except (duckdb.Error, OSError) as exc:
        notes.append(f"dashboard snapshot NOT published ({exc}); the dashboard keeps serving the previous one")
    return "; ".join(notes)
