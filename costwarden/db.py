"""Opening the DuckDB warehouse: one place that knows paths, limits, locking and the schema version.

DuckDB allows one writing process at a time. A second writer gets a clear "warehouse is busy" error instead of
DuckDB's lock message; readers that only query open the file read-only.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import duckdb

from costwarden.errors import TransientError, WarehouseError


def connect(path: str | Path, *, read_only: bool = False, memory_limit: str | None = None,
            threads: int = 0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, creating it (and its schema) on first write."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(f"warehouse {path} does not exist yet. Load data first with `costwarden ingest` "
                             "or `costwarden demo`, or point --warehouse / COSTWARDEN_WAREHOUSE at another file.")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise TransientError(f"warehouse {path} is busy: another costwarden process is writing to it. "
                                 "Wait for it to finish (see `costwarden loads`) and run the command again.") from None
        raise WarehouseError(f"cannot open warehouse {path}: {exc}") from None
    con.execute("SET TimeZone = 'UTC'")   # every timestamp in the warehouse is UTC
    if not read_only:
        # Spill beside the warehouse, not in /tmp, so large loads use the same disk the user chose.
        con.execute("SET temp_directory = ?", [str(path.with_suffix(path.suffix + ".tmp"))])
        # Order of inserted rows does not matter for raw tables (lineage columns say where a row came from), and
        # keeping it makes DuckDB buffer large parallel inserts in memory. tabular.py turns it on where it needs
        # rowid to follow the file.
        con.execute("SET preserve_insertion_order = false")
        # Hand freed memory back to the OS promptly: batches come and go, and DuckDB's allocator would otherwise
        # keep their high-water mark as resident memory for the rest of a long load.
        con.execute("SET allocator_flush_threshold = '64MB'")
        con.execute("SET allocator_background_threads = true")
        # Files are read once per load; caching them in memory only raises the peak.
        con.execute("SET enable_external_file_cache = false")
        con.execute("SET write_buffer_row_group_count = 1")
        from costwarden.warehouse import apply_schema  # local import: warehouse imports db
        apply_schema(con)
    return con


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit on success, roll back on any exception (including KeyboardInterrupt)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
