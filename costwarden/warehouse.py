"""The warehouse runner: applies sql/schema DDL and builds sql/{staging,intermediate,marts} in dependency order.

One file per relation: the folder is the schema, the stem is the relation name, and the header line
`-- materialized: view|table` says how to build it. Order comes from the `schema.relation` names each file
references (graphlib), so nobody keeps an order list by hand. Audits in sql/audits return offending rows;
zero rows means the invariant holds.
"""

from __future__ import annotations

import graphlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from costwarden.errors import WarehouseError

BUILD_LAYERS = ("staging", "intermediate", "marts")
_REF = re.compile(r"\b(raw|ref|meta|staging|intermediate|marts)\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_MATERIALIZED = re.compile(r"^--\s*materialized:\s*(view|table)\s*$", re.IGNORECASE | re.MULTILINE)


def sql_root() -> Path:
    return Path(str(resources.files("sql")))


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str
    path: Path
    materialized: str
    depends_on: frozenset[str]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schemas and raw/meta/ref tables if they are missing (idempotent)."""
    for path in sorted((sql_root() / "schema").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))


def discover(root: Path | None = None) -> list[Relation]:
    root = root or sql_root()
    relations = []
    for layer in BUILD_LAYERS:
        for path in sorted((root / layer).glob("*.sql")):
            text = path.read_text(encoding="utf-8")
            found = _MATERIALIZED.search(text)
            if not found:
                raise WarehouseError(f"{path} has no '-- materialized: view|table' header line.")
            refs = {f"{s.lower()}.{n.lower()}" for s, n in _REF.findall(_strip_comments(text))}
            relations.append(Relation(layer, path.stem, path, found.group(1).lower(),
                                      frozenset(refs - {f"{layer}.{path.stem}"})))
    return relations


def build_order(relations: list[Relation]) -> list[Relation]:
    by_name = {r.qualified: r for r in relations}
    graph = {r.qualified: {d for d in r.depends_on if d in by_name} for r in relations}
    try:
        return [by_name[name] for name in graphlib.TopologicalSorter(graph).static_order()]
    except graphlib.CycleError as exc:
        raise WarehouseError(f"sql/ models reference each other in a cycle: {' -> '.join(exc.args[1])}") from None


def build(con: duckdb.DuckDBPyConnection, only_views: bool = False) -> list[str]:
    """(Re)create every relation in order. Returns the names built."""
    built = []
    for layer in BUILD_LAYERS:
        con.execute("create schema if not exists " + layer)  # layer names come from BUILD_LAYERS only
    needs_full_build: set[str] = set()   # tables, and views reading them (directly or through other views)
    for rel in build_order(discover()):
        if rel.materialized != "view" or rel.depends_on & needs_full_build:
            needs_full_build.add(rel.qualified)
        if only_views and rel.qualified in needs_full_build:
            continue     # a view over a model table can only be (re)created once that table exists
        body = _strip_trailing_semicolon(rel.path.read_text(encoding="utf-8"))
        kind = "view" if rel.materialized == "view" else "table"
        # Identifiers come from our own file list (schema folder + file stem), never from user input.
        statement = "create or replace " + kind + " " + rel.qualified + " as\n" + body
        try:
            con.execute(statement)
        except duckdb.Error as exc:
            raise WarehouseError(f"building {rel.qualified} from {rel.path} failed: {exc}") from None
        built.append(rel.qualified)
    return built


@dataclass(frozen=True)
class AuditResult:
    name: str
    failing_rows: int
    sample: list[tuple]


def run_audits(con: duckdb.DuckDBPyConnection) -> list[AuditResult]:
    results = []
    for path in sorted((sql_root() / "audits").glob("*.sql")):
        body = _strip_trailing_semicolon(path.read_text(encoding="utf-8"))
        rows = con.execute("select * from (" + body + ") limit 5").fetchall()
        count = con.execute("select count(*) from (" + body + ")").fetchone()[0]
        results.append(AuditResult(path.stem, count, rows))
    return results


def _strip_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


def _strip_trailing_semicolon(text: str) -> str:
    return text.strip().rstrip(";")
