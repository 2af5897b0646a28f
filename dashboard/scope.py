"""Scope enforcement: every dashboard query runs here, against views that hold only the viewer's rows.

For each query: the SQL is parsed (DuckDB's own parser, json_serialize_sql) and may reference only the short names
of published relations (no schema or catalog, no table functions, one statement); then a fresh read-only
connection to the pinned snapshot gets one temporary view per referenced name, restricted to the viewer's scope;
then the query runs with parameters. A relation with a department or team column keeps only rows whose department
or team is in the viewer's scope; one without them (loads, quarantine, alert outbox, billing periods) is empty for
a scoped viewer, except the few PUBLIC ones (freshness, FX rates). Filter values from pages, widgets and URLs are
only ever bound parameters, and whatever they say, the views never hold another department's rows.
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.access import Viewer

# schema -> how its relations are named in queries; other schemas are not exposed.
_PREFIX = {"marts": "", "analytics": "", "serving": "", "meta": "", "ref": "", "alerts": "alert_"}
PUBLIC = frozenset({"freshness", "snapshot", "fx_rates"})


class ScopeError(Exception):
    """A query tried to reach something it may not (a bug in a page, or an attack through one)."""


@dataclass(frozen=True)
class Relation:
    name: str              # as queries call it
    qualified: str         # "schema"."table" inside the snapshot
    columns: frozenset[str]

    @property
    def scoped(self) -> bool:
        return bool({"department", "team"} & self.columns)


_catalogs: dict[str, dict[str, Relation]] = {}
_catalog_lock = threading.Lock()
_parser = duckdb.connect(":memory:")
_parser_lock = threading.Lock()


def catalog(snapshot: Path) -> dict[str, Relation]:
    key = str(snapshot)
    with _catalog_lock:
        if key not in _catalogs:
            con = _database(snapshot).cursor()
            try:
                rows = con.execute("select table_schema, table_name, list(column_name) from information_schema.columns "
                                   "where table_catalog = current_database() group by all").fetchall()
            finally:
                con.close()
            relations = {}
            for schema, table, columns in rows:
                if schema in _PREFIX:
                    name = _PREFIX[schema] + table
                    relations[name] = Relation(name, f'"{schema}"."{table}"', frozenset(columns))
            _catalogs[key] = relations
        return _catalogs[key]


@functools.lru_cache(maxsize=512)
def referenced_names(sql: str) -> frozenset[str]:
    """The relation names a statement reads; ScopeError for anything but plain names of one SELECT. Cached: pages
    send the same statements with different parameters."""
    with _parser_lock:
        tree = json.loads(_parser.execute("select json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error") or len(tree.get("statements", [])) != 1:
        raise ScopeError(f"not a single SELECT statement: {tree.get('error_message', '')}")
    ctes: set[str] = set()
    tables: list[dict] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "TABLE_FUNCTION":
                raise ScopeError("table functions are not allowed in dashboard queries")
            if node.get("type") == "BASE_TABLE":
                tables.append(node)
            for entry in (node.get("cte_map") or {}).get("map", []) if isinstance(node.get("cte_map"), dict) else []:
                ctes.add(entry["key"].lower())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree["statements"])
    names = set()
    for table in tables:
        if table.get("schema_name") or table.get("catalog_name"):
            raise ScopeError(f"qualified name {table.get('schema_name')}.{table['table_name']} is not allowed; "
                             "dashboard queries use the scoped short names")
        name = table["table_name"].lower()
        if name not in ctes:
            names.add(name)
    return frozenset(names)


def _quote_list(values) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def view_sql(relation: Relation, viewer: Viewer) -> str:
    if viewer.all_scopes or relation.name in PUBLIC:
        where = "true"
    elif relation.scoped:
        checks = []
        if "department" in relation.columns and viewer.departments:
            checks.append(f"department in ({_quote_list(viewer.departments)})")
        if "team" in relation.columns and viewer.teams:
            checks.append(f"team in ({_quote_list(viewer.teams)})")
        where = " or ".join(checks) or "false"
    else:
        where = "false"
    return f'create temp view "{relation.name}" as select * from {relation.qualified} where {where}'


_open: dict[str, duckdb.DuckDBPyConnection] = {}
_open_lock = threading.Lock()
KEEP_OPEN = 2          # the current snapshot and the one before it (pages still rendering from it)


def _database(snapshot: Path) -> duckdb.DuckDBPyConnection:
    """One long-lived read-only connection per snapshot; queries use cursors on it (each cursor is its own
    connection to the same database, so temporary views never leak between queries or sessions)."""
    key = str(snapshot)
    with _open_lock:
        if key not in _open:
            _open[key] = duckdb.connect(key, read_only=True)
            for stale in list(_open)[:-KEEP_OPEN]:
                _open.pop(stale).close()
        return _open[key]


def run(snapshot: Path, viewer: Viewer, sql: str, params: list | None = None) -> pd.DataFrame:
    """The one way a page reads data."""
    relations = catalog(snapshot)
    names = referenced_names(sql)
    unknown = names - relations.keys()
    if unknown:
        raise ScopeError(f"unknown relation(s) {sorted(unknown)}; published: {sorted(relations)}")
    con = _database(snapshot).cursor()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for name in sorted(names):
            con.execute(view_sql(relations[name], viewer))
        return con.execute(sql, params or []).df()
    finally:
        con.close()
