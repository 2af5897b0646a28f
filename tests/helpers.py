"""Helpers shared by the ingest tests: run the real CLI in a subprocess (for kills) and snapshot a warehouse."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb

SNAPSHOT_TABLES = ("raw.cost_lines", "raw.inference_requests", "meta.source_objects", "meta.billing_periods",
                   "meta.quarantine")


def run_cli_process(warehouse: str, *args: str, env: dict | None = None, timeout: float = 300):
    """`costwarden --warehouse W args...` in a real child process."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "costwarden.cli", "--warehouse", warehouse, *args],
                          capture_output=True, text=True, env=full_env, timeout=timeout)


def snapshot(warehouse: str) -> dict[str, object]:
    """Row counts and order-independent content digests of every table a load writes."""
    if not os.path.exists(warehouse):
        return {}
    con = duckdb.connect(warehouse, read_only=True)
    try:
        result = {}
        for table in SNAPSHOT_TABLES:
            count, digest = con.execute(
                f"select count(*), coalesce(sum(hash(t)), 0) from {table} t").fetchone()
            result[table] = (count, digest)
        result["meta.loads(ok)"] = con.execute("select count(*) from meta.loads where status = 'ok'").fetchone()[0]
        return result
    finally:
        con.close()


def rows(warehouse: str, sql: str, params: list | None = None) -> list[tuple]:
    """Run a query on a warehouse read-only and return all rows."""
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
