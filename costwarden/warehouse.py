"""The warehouse runner: applies sql/schema DDL and builds sql/{staging,intermediate,marts} in dependency order.

One file per relation: the folder is the schema, the stem is the relation name, and the header line
`-- materialized: view|table` says how to build it. Order comes from the `schema.relation` names each file
references (graphlib), so nobody keeps an order list by hand. Audits in sql/audits return offending rows;
zero rows means the invariant holds.

Incremental tables add a header `-- incremental: <day column>` and read their day-partitioned inputs only for the
days in meta.build_scope. A full build fills that table with every day and recreates everything; an incremental
build (costwarden.incremental plans it) deletes the scope's days from each incremental table and inserts them
again, while views and plain tables (full-rebuild relations) are recreated as always.
"""

from __future__ import annotations

import graphlib
import re
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import duckdb

from costwarden.errors import WarehouseError

BUILD_LAYERS = ("staging", "intermediate", "marts")
_REF = re.compile(r"\b(raw|ref|meta|staging|intermediate|marts)\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_MATERIALIZED = re.compile(r"^--\s*materialized:\s*(view|table)\s*$", re.IGNORECASE | re.MULTILINE)
_INCREMENTAL = re.compile(r"^--\s*incremental:\s*([a-z_][a-z0-9_]*)\s*$", re.IGNORECASE | re.MULTILINE)
# `-- always rebuilt where: <boolean column>`: rows of an incremental table that every build recomputes whatever their
# day (e.g. shares of a period-long pot whose split depends on days outside the scope).
_ALWAYS = re.compile(r"^--\s*always rebuilt where:\s*([a-z_][a-z0-9_]*)\s*$", re.IGNORECASE | re.MULTILINE)
SCOPE_TABLE = "meta.build_scope"


def sql_root() -> Path:
    return Path(str(resources.files("sql")))


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str
    path: Path
    materialized: str
    depends_on: frozenset[str]
    partition_column: str | None = None    # `-- incremental: <column>`: rebuilt day by day
    always_column: str | None = None       # `-- always rebuilt where: <column>`: rows rebuilt by every build

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def incremental(self) -> bool:
        return self.partition_column is not None


@dataclass
class BuildStep:
    relation: str
    action: str        # view | table | days (delete + insert of the scope's days)
    seconds: float
    rows: int | None = None


@dataclass
class BuildResult:
    steps: list[BuildStep] = field(default_factory=list)

    @property
    def built(self) -> list[str]:
        return [s.relation for s in self.steps]


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
            partition = _INCREMENTAL.search(text)
            if partition and found.group(1).lower() != "table":
                raise WarehouseError(f"{path}: '-- incremental:' needs '-- materialized: table'.")
            always = _ALWAYS.search(text)
            if always and not partition:
                raise WarehouseError(f"{path}: '-- always rebuilt where:' needs '-- incremental:'.")
            relations.append(Relation(layer, path.stem, path, found.group(1).lower(),
                                      frozenset(refs - {f"{layer}.{path.stem}"}),
                                      partition.group(1).lower() if partition else None,
                                      always.group(1).lower() if always else None))
    return relations


def build_order(relations: list[Relation]) -> list[Relation]:
    by_name = {r.qualified: r for r in relations}
    graph = {r.qualified: {d for d in r.depends_on if d in by_name} for r in relations}
    try:
        return [by_name[name] for name in graphlib.TopologicalSorter(graph).static_order()]
    except graphlib.CycleError as exc:
        raise WarehouseError(f"sql/ models reference each other in a cycle: {' -> '.join(exc.args[1])}") from None


def build(con: duckdb.DuckDBPyConnection, only_views: bool = False, incremental: bool = False) -> list[str]:
    """(Re)create every relation in order. Returns the names built.

    Full build (default): meta.build_scope is filled with every day that has data and every relation is recreated.
    `incremental=True`: the caller has put the days to recompute in meta.build_scope; incremental tables have just
    those days deleted and inserted again, every other relation is recreated.
    """
    return build_relations(con, only_views=only_views, incremental=incremental).built


def build_relations(con: duckdb.DuckDBPyConnection, only_views: bool = False,
                    incremental: bool = False) -> BuildResult:
    result = BuildResult()
    for layer in BUILD_LAYERS:
        con.execute("create schema if not exists " + layer)  # layer names come from BUILD_LAYERS only
    if not incremental and not only_views:
        fill_full_scope(con)
    relations = build_order(discover())
    models = {r.qualified for r in relations}
    for rel in relations:
        if only_views and rel.materialized != "view":
            continue
        if only_views and not _exist(con, rel.depends_on & models):
            continue    # a view over a table the first full build has not made yet
        body = _strip_trailing_semicolon(rel.path.read_text(encoding="utf-8"))
        started = time.perf_counter()
        # Identifiers come from our own file list (schema folder + file stem and its header), never from user input.
        if rel.incremental and incremental:
            action = "days"
            always = f" or {rel.always_column}" if rel.always_column else ""
            statements = [
                f"delete from {rel.qualified} where {rel.partition_column} in (select day from {SCOPE_TABLE}){always}",
                f"insert into {rel.qualified} select * from (\n{body}\n) as scoped "
                f"where scoped.{rel.partition_column} in (select day from {SCOPE_TABLE}){always}",
            ]
        else:
            action = "view" if rel.materialized == "view" else "table"
            statements = _drop_if_other_kind(con, rel) + [
                "create or replace " + action + " " + rel.qualified + " as\n" + body]
        try:
            for statement in statements:
                con.execute(statement)
        except duckdb.OutOfMemoryException:
            raise WarehouseError(out_of_memory(f"building {rel.qualified}")) from None
        except duckdb.Error as exc:
            raise WarehouseError(f"building {rel.qualified} from {rel.path} failed: {exc}") from None
        rows = None
        if rel.materialized == "table":
            rows = con.execute("select count(*) from " + rel.qualified).fetchone()[0]
        result.steps.append(BuildStep(rel.qualified, action, time.perf_counter() - started, rows))
    return result


def out_of_memory(what: str) -> str:
    """The one-line error for a build step that hit DuckDB's memory limit."""
    return (f"{what} ran out of memory under DuckDB's memory limit. Raise `memory_limit` in the [build] section of "
            "the config (docs/performance.md gives what a build of a given size needed) or build on a machine with "
            "more memory. Nothing was changed: the build is one transaction.")


def _exist(con: duckdb.DuckDBPyConnection, names: set[str]) -> bool:
    existing = {f"{s}.{n}" for s, n in con.execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}
    return names <= existing


def _drop_if_other_kind(con: duckdb.DuckDBPyConnection, rel: Relation) -> list[str]:
    """A model that changed from table to view (or back) must drop the old object first."""
    found = con.execute("select table_type from information_schema.tables where table_schema = ? and table_name = ?",
                        [rel.schema, rel.name]).fetchone()
    if not found:
        return []
    existing = "view" if found[0] == "VIEW" else "table"
    return [] if existing == rel.materialized else [f"drop {existing} {rel.qualified}"]


# Every day any request or cost line falls on.
DAYS_WITH_DATA = """
    select distinct cast(occurred_at as date) from raw.inference_requests
    union
    select distinct cast(charge_period_start as date) from raw.cost_lines
    where charge_period_start is not null"""


def fill_full_scope(con: duckdb.DuckDBPyConnection) -> None:
    """Every day any request or cost line falls on: the scope of a full build."""
    con.execute(f"delete from {SCOPE_TABLE}")
    con.execute("insert into " + SCOPE_TABLE + DAYS_WITH_DATA)


def incremental_relations() -> list[Relation]:
    return [r for r in discover() if r.incremental]


@dataclass(frozen=True)
class AuditResult:
    name: str
    failing_rows: int
    sample: list[tuple]


def run_audits(con: duckdb.DuckDBPyConnection, scoped: bool = False) -> list[AuditResult]:
    """Run every sql/audits query; each returns the rows that break its invariant.

    The per-request and per-line audits check the days in the temp table `audit_days`: every day with data, or with
    `scoped=True` (an incremental build) only the days in meta.build_scope, since the build rewrote nothing else and
    the other days were audited when they were built. A passing audit runs once; the sample is only fetched for a
    failing one."""
    con.execute("create or replace temp table audit_days (day date)")
    con.execute("insert into audit_days " + ("select day from " + SCOPE_TABLE if scoped else DAYS_WITH_DATA))
    results = []
    for path in sorted((sql_root() / "audits").glob("*.sql")):
        body = _strip_trailing_semicolon(path.read_text(encoding="utf-8"))
        count = con.execute("select count(*) from (" + body + ")").fetchone()[0]
        rows = con.execute("select * from (" + body + ") limit 5").fetchall() if count else []
        results.append(AuditResult(path.stem, count, rows))
    con.execute("drop table if exists audit_days")
    return results


def _strip_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


def _strip_trailing_semicolon(text: str) -> str:
    return text.strip().rstrip(";")
