"""Read-only questions the CLI asks the warehouse (query, loads, quarantine).

`costwarden query` opens the warehouse read-only with external access disabled, so a query can read the
warehouse but cannot write to it, read local files or reach the network.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from costwarden.errors import WarehouseError


def _open(warehouse: str) -> duckdb.DuckDBPyConnection:
    if not Path(warehouse).exists():
        raise WarehouseError(f"warehouse {warehouse} does not exist yet. Load data first (`costwarden ingest ...` "
                             "or `costwarden demo`), or pass --warehouse.")
    try:
        con = duckdb.connect(warehouse, read_only=True, config={"enable_external_access": False})
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open warehouse {warehouse} read-only: {str(exc).splitlines()[0]}") from None
    con.execute("SET TimeZone = 'UTC'")
    return con


def run_read_only(warehouse: str, sql: str) -> tuple[list[str], list[tuple]]:
    con = _open(warehouse)
    try:
        cur = con.execute(sql)
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()
    except duckdb.Error as exc:
        raise WarehouseError(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


def recent_loads(warehouse: str, limit: int) -> tuple[list[str], list[tuple]]:
    return run_read_only(warehouse, f"""
        select load_id, started_at, coalesce(source_name, source_uri) as source, format, status,
               files_seen as files, files_skipped as files_skipped, files_failed,
               rows_read, rows_loaded, rows_quarantined, rows_skipped, rows_unpriced,
               round(epoch(finished_at - started_at), 1) as seconds, message
        from meta.loads order by started_at desc limit {int(limit)}""")


def quarantined_rows(warehouse: str, load_id: str | None, limit: int) -> tuple[list[str], list[tuple]]:
    con = _open(warehouse)
    try:
        cur = con.execute(
            "select load_id, format, object_uri, line_no, reason, field, value from meta.quarantine "
            "where $load_id is null or load_id = $load_id order by quarantined_at desc, object_uri, line_no "
            "limit $limit", {"load_id": load_id, "limit": int(limit)})
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()
