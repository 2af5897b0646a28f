"""Stores the demo's labelled ground truth in the warehouse: `demo.incidents` and `demo.opportunities`, one row per
planted finding, so detectors and recommenders can be scored against it with SQL."""

from __future__ import annotations

from costwarden import db
from costwarden.demo.incidents import Finding, Window, incidents, opportunities

_COLUMNS = ("id varchar primary key, kind varchar not null, scope_kind varchar not null, scope varchar not null, "
            "start timestamp not null, \"end\" timestamp, description varchar not null, "
            "expected_root_cause varchar not null")


def _rows(findings: list[Finding]) -> list[tuple]:
    return [(f.id, f.kind, f.scope_kind, f.scope, f.start, f.end, f.description, f.expected_root_cause)
            for f in findings]


def store_findings(warehouse: str, w: Window) -> None:
    con = db.connect(warehouse)
    try:
        with db.transaction(con):
            con.execute("create schema if not exists demo")
            # Table names are fixed here, never from input.
            for table, findings in (("demo.incidents", incidents(w)), ("demo.opportunities", opportunities(w))):
                con.execute(f"create or replace table {table} ({_COLUMNS})")
                con.executemany(f"insert into {table} values (?, ?, ?, ?, ?, ?, ?, ?)", _rows(findings))
    finally:
        con.close()
