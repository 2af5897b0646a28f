"""What every ingestor shares: the load context (ledger, quarantine, counts) and validated inserts.

An ingestor's only job is to say, in SQL, where each canonical field sits in its format (`RequestFields` /
`CostFields` below name them) and to group objects into load units. This module casts, validates, quarantines
with a reason, deduplicates and records lineage the same way for every format, so `read = loaded + quarantined`
holds by construction: each row read ends in exactly one of the two.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import ClassVar, Iterable

import duckdb

from costwarden.config import Settings
from costwarden.faults import checkpoint
from ingest.identity import hash_salt
from ingest.lines import BadLine
from ingest.storage import Fetcher, SourceObject

_tmp_names = itertools.count()


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# ---- canonical columns -------------------------------------------------------------------------------------------
# (name, SQL type, mandatory). Ingestors produce these names from their sources, as text or already typed; the
# base casts with try_cast and quarantines a row whose non-empty value does not cast ("wrong type").

REQUEST_COLUMNS: list[tuple[str, str, bool]] = [
    ("request_id", "varchar", True), ("occurred_at", "timestamp", True), ("trace_id", "varchar", False),
    ("span_id", "varchar", False), ("parent_span_id", "varchar", False), ("agent", "varchar", False),
    ("application", "varchar", False), ("operation", "varchar", False), ("principal_hash", "varchar", False),
    ("principal_role", "varchar", False), ("api_key_hash", "varchar", False), ("team", "varchar", False),
    ("department", "varchar", False), ("environment", "varchar", False), ("region", "varchar", False),
    ("account_id", "varchar", False), ("provider", "varchar", False), ("model_id", "varchar", True),
    ("model", "varchar", True), ("model_version", "varchar", False), ("input_tokens", "bigint", True),
    ("output_tokens", "bigint", True), ("cache_read_tokens", "bigint", True), ("cache_write_tokens", "bigint", True),
    ("reasoning_tokens", "bigint", False), ("latency_ms", "double", False), ("ttft_ms", "double", False),
    ("status", "varchar", True), ("error_class", "varchar", False), ("finish_reason", "varchar", False),
    ("service_tier", "varchar", False), ("task_type", "varchar", False), ("quality_score", "double", False),
    ("reported_cost", "decimal(38, 10)", False), ("metadata", "map(varchar, varchar)", False),
]

COST_COLUMNS: list[tuple[str, str, bool]] = [
    ("billing_period_start", "timestamp", False), ("billing_period_end", "timestamp", False),
    ("charge_period_start", "timestamp", True), ("charge_period_end", "timestamp", False),
    ("provider_name", "varchar", False), ("publisher_name", "varchar", False),
    ("invoice_issuer_name", "varchar", False), ("billing_account_id", "varchar", False),
    ("sub_account_id", "varchar", False), ("sub_account_name", "varchar", False),
    ("charge_category", "varchar", True), ("charge_class", "varchar", False), ("charge_frequency", "varchar", False),
    ("charge_description", "varchar", False), ("line_item_type", "varchar", False), ("service_name", "varchar", False),
    ("service_category", "varchar", False), ("service_code", "varchar", False), ("region_id", "varchar", False),
    ("availability_zone", "varchar", False), ("resource_id", "varchar", False), ("resource_name", "varchar", False),
    ("resource_type", "varchar", False), ("sku_id", "varchar", False), ("usage_type", "varchar", False),
    ("operation", "varchar", False), ("iam_principal", "varchar", False), ("pricing_category", "varchar", False),
    ("pricing_unit", "varchar", False), ("pricing_quantity", "decimal(38, 10)", False),
    ("consumed_quantity", "decimal(38, 10)", False), ("consumed_unit", "varchar", False),
    ("commitment_discount_id", "varchar", False), ("billed_cost", "decimal(38, 10)", True),
    ("effective_cost", "decimal(38, 10)", True), ("list_cost", "decimal(38, 10)", False),
    ("contracted_cost", "decimal(38, 10)", False), ("billing_currency", "varchar", True),
    ("invoice_id", "varchar", False), ("tags", "map(varchar, varchar)", False),
]

_TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")


def _typed_select(columns: list[tuple[str, str, bool]], extra_checks: list[tuple[str, str, str]]) -> str:
    """SELECT list casting each canonical column, plus `_reject_reason/_reject_field/_reject_value`.

    The first failing check wins: missing mandatory value, wrong type, then the extra (name, condition, reason)
    checks evaluated on the cast values.
    """
    casts, checks = [], []
    for name, sql_type, mandatory in columns:
        if sql_type.startswith("map"):
            casts.append(f"try_cast(s.{name} as {sql_type}) as {name}")
            continue
        text = f"nullif(trim(cast(s.{name} as varchar)), '')"
        casts.append(f"try_cast({text} as {sql_type}) as {name}")
        if mandatory:
            checks.append((f"{text} is null", f"'missing mandatory field'", name, "null"))
        if sql_type != "varchar":
            kind = {"bigint": "an integer", "double": "a number", "timestamp": "a timestamp"}.get(
                sql_type, "a decimal number")
            checks.append((f"{text} is not null and try_cast({text} as {sql_type}) is null",
                           f"'value is not {kind}'", name, f"left({text}, 80)"))
    body = ",\n    ".join(["s._source_object", "s._source_line"] + casts)
    reason = "case " + " ".join(f"when {cond} then {why}" for cond, why, _, _ in checks)
    fld = "case " + " ".join(f"when {cond} then '{name}'" for cond, _, name, _ in checks)
    val = "case " + " ".join(f"when {cond} then {value}" for cond, _, _, value in checks)
    inner = f"select {body},\n    {reason} end as _type_reason, {fld} end as _type_field, {val} end as _type_value"
    extra_reason = " ".join(f"when {cond} then '{why}'" for _, cond, why in extra_checks)
    extra_field = " ".join(f"when {cond} then '{name}'" for name, cond, _ in extra_checks)
    extra_value = " ".join(f"when {cond} then cast({name} as varchar)" for name, cond, _ in extra_checks)
    names = ", ".join(name for name, _, _ in columns)
    return (f"select _source_object, _source_line, {names},\n"
            f"  coalesce(_type_reason, case {extra_reason} end) as _reject_reason,\n"
            f"  coalesce(_type_field, case {extra_field} end) as _reject_field,\n"
            f"  case when _type_reason is not null then _type_value else case {extra_value} end end "
            f"as _reject_value\n"
            f"from ({inner}\n  from {{source}} s) t")


REQUEST_CHECKS = [(c, f"{c} < 0", "negative token count") for c in _TOKEN_COLUMNS] + [
    ("status", "status not in ('success', 'error')", "status must be success or error"),
    ("latency_ms", "latency_ms < 0", "negative latency"),
]
COST_CHECKS = [
    ("charge_category", "charge_category not in ('Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment')",
     "charge category is not a FOCUS value (Usage, Purchase, Tax, Credit, Adjustment)"),
    ("billing_currency", "length(billing_currency) <> 3", "billing currency is not an ISO 4217 code"),
]


@dataclass(frozen=True)
class ObjectRows:
    read: int          # rows of the object seen by this step (duplicates included)
    quarantined: int
    loaded: int        # read - quarantined - duplicates of rows already loaded


# ---- counts and the load context ---------------------------------------------------------------------------------

@dataclass
class Counts:
    files_seen: int = 0
    files_loaded: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    rows_unpriced: int = 0
    failures: list[str] = field(default_factory=list)


class LoadContext:
    """Everything an ingestor may touch during one run; all writes happen inside the run's transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings, load_id: str, fmt: str,
                 fetcher: Fetcher, progress=None):
        self.con, self.settings, self.load_id, self.format = con, settings, load_id, fmt
        self.fetcher, self.progress = fetcher, progress
        self.counts = Counts()
        self.source_uri = ""
        self.source = None            # the [[sources]] entry when run from the config, else None
        self.salt = hash_salt(settings.hash_salt_env)

    # -- ledger
    def already_loaded(self, obj: SourceObject) -> bool:
        return self.con.execute(
            "select count(*) from meta.source_objects where object_uri = ? and etag = ?",
            [obj.uri, obj.etag]).fetchone()[0] > 0

    def record_object(self, obj: SourceObject, status: str = "loaded", *, read: int = 0, loaded: int = 0,
                      quarantined: int = 0, dataset: str | None = None, billing_period=None,
                      version: str | None = None) -> None:
        self.con.execute(
            "insert into meta.source_objects values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [obj.uri, obj.etag, obj.size, self.format, dataset, billing_period, version, self.load_id,
             read, loaded, quarantined, status, now()])

    def skip_object(self, obj: SourceObject) -> None:
        self.counts.files_skipped += 1
        self._advance(files=1)

    def file_failed(self, obj: SourceObject, message: str) -> None:
        """A file that cannot be read at all: named in the report, not in the ledger (the next run retries it)."""
        self.counts.files_failed += 1
        self.counts.failures.append(message)
        self.con.execute("insert into meta.load_errors values (?, ?, ?, ?)",
                         [self.load_id, obj.uri, message, now()])
        self._advance(files=1)

    def quarantine_lines(self, object_uri: str, bad: Iterable[BadLine]) -> int:
        rows = [(self.load_id, self.format, object_uri, b.line_no, b.reason, None, None, now()) for b in bad]
        if rows:
            self.con.executemany("insert into meta.quarantine values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self.counts.rows_read += len(rows)
        self.counts.rows_quarantined += len(rows)
        return len(rows)

    def _advance(self, files: int = 0, rows: int = 0) -> None:
        if self.progress is not None:
            self.progress(files, rows)

    def temp_name(self, stem: str) -> str:
        return f"_cw_{stem}_{next(_tmp_names)}"

    # -- requests
    def load_requests(self, source_sql: str, params: dict | None = None) -> dict[str, "ObjectRows"]:
        """Validate, quarantine, deduplicate and insert requests produced by `source_sql`.

        `source_sql` is a SELECT yielding `_source_object`, `_source_line` and the canonical request columns (any may
        be text). Returns per-object row counts so callers can record the ledger.
        """
        staged = self.temp_name("requests")
        typed = _typed_select(REQUEST_COLUMNS, REQUEST_CHECKS).replace("{source}", f"({source_sql})")
        self.con.execute(f"create temp table {staged} as {typed}", params or {})
        if self.settings.ingest.unknown_models == "quarantine":
            self.con.execute(
                f"update {staged} set _reject_reason = 'model has no price in the price book; add it under "
                f"[[prices]] in the config', _reject_field = 'model', _reject_value = model "
                f"where _reject_reason is null and not exists (select 1 from ref.price_book p "
                f"where p.provider = {staged}.provider and p.model = {staged}.model)")
        self._quarantine_staged(staged)
        # Deduplicate on request id: within the batch (first line wins) and against what is already loaded.
        dedup = self.temp_name("dedup")
        self.con.execute(f"""
            create temp table {dedup} as
            select * exclude (_rn) from (
                select s.*, row_number() over (partition by request_id order by _source_object, _source_line) as _rn
                from {staged} s where _reject_reason is null) d
            where _rn = 1 and not exists (
                select 1 from raw.inference_requests r
                where r.source_format = $fmt and r.request_id = d.request_id)""", {"fmt": self.format})
        names = ", ".join(name for name, _, _ in REQUEST_COLUMNS)
        self.con.execute(f"insert into raw.inference_requests (source_format, {names}, _load_id, _source_object, "
                         f"_source_line) select $fmt, {names}, $load_id, _source_object, _source_line from {dedup}",
                         {"fmt": self.format, "load_id": self.load_id})
        valid, loaded, unpriced = self.con.execute(
            f"select (select count(*) from {staged} where _reject_reason is null), count(*), "
            f"count(*) filter (where not exists (select 1 from ref.price_book p where p.provider = d.provider "
            f"and p.model = d.model)) from {dedup} d").fetchone()
        loaded_by = dict(self.con.execute(f"select _source_object, count(*) from {dedup} group by 1").fetchall())
        per_object = {uri: ObjectRows(total, rejected, loaded_by.get(uri, 0))
                      for uri, total, rejected in self.con.execute(
                          f"select _source_object, count(*), count(*) filter (where _reject_reason is not null) "
                          f"from {staged} group by 1").fetchall()}
        total = sum(rows.read for rows in per_object.values())
        self.counts.rows_read += total - (valid - loaded)
        self.counts.rows_loaded += loaded
        self.counts.rows_skipped += valid - loaded
        self.counts.rows_unpriced += unpriced
        self._advance(rows=total)
        self.con.execute(f"drop table {staged}")
        self.con.execute(f"drop table {dedup}")
        return per_object

    def _quarantine_staged(self, staged: str) -> int:
        count = self.con.execute(
            f"insert into meta.quarantine select $load_id, $fmt, _source_object, _source_line, _reject_reason, "
            f"_reject_field, _reject_value, $at from {staged} where _reject_reason is not null",
            {"load_id": self.load_id, "fmt": self.format, "at": now()}).fetchone()[0]
        self.counts.rows_quarantined += count
        return count

    # -- cost lines
    def current_period_version(self, dataset: str, billing_period) -> tuple[str, datetime | None] | None:
        row = self.con.execute(
            "select version, version_at from meta.billing_periods where dataset = ? and billing_period = ? "
            "order by replaced_at desc limit 1", [dataset, billing_period]).fetchone()
        return (row[0], row[1]) if row else None

    def replace_billing_period(self, *, dataset: str, billing_period, version: str, version_at: datetime | None,
                               manifest_uri: str | None, source_sql: str, params: dict | None = None) -> int:
        """Swap one billing period of one export for a newer delivery (inside the run's transaction).

        Returns rows loaded. Rows of the delivery that fail validation are quarantined; the rest replace every row
        previously loaded for (dataset, billing_period).
        """
        staged = self.temp_name("costs")
        typed = _typed_select(COST_COLUMNS, COST_CHECKS).replace("{source}", f"({source_sql})")
        self.con.execute(f"create temp table {staged} as {typed}", params or {})
        quarantined = self._quarantine_staged(staged)
        self.con.execute("delete from raw.cost_lines where dataset = ? and billing_period = ?",
                         [dataset, billing_period])
        names = ", ".join(name for name, _, _ in COST_COLUMNS)
        loaded = self.con.execute(
            f"insert into raw.cost_lines (source_format, dataset, billing_period, {names}, _load_id, _source_object, "
            f"_source_row) select $fmt, $dataset, $period, {names}, $load_id, _source_object, _source_line "
            f"from {staged} where _reject_reason is null",
            {"fmt": self.format, "dataset": dataset, "period": billing_period, "load_id": self.load_id}).fetchone()[0]
        checkpoint("ingest:after-batch")
        billed = self.con.execute(
            "select sum(billed_cost) from raw.cost_lines where dataset = ? and billing_period = ?",
            [dataset, billing_period]).fetchone()[0]
        self.con.execute("insert into meta.billing_periods values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [dataset, billing_period, self.format, version, version_at, manifest_uri, self.load_id,
                          loaded, billed, now()])
        self.counts.rows_read += loaded + quarantined
        self.counts.rows_loaded += loaded
        self._advance(rows=loaded + quarantined)
        self.con.execute(f"drop table {staged}")
        return loaded


class Ingestor:
    """Base class. Subclasses set `format`, `family`, `title`, implement `detect` and `run`."""

    format: ClassVar[str] = ""
    family: ClassVar[str] = ""     # "requests" or "costs"
    title: ClassVar[str] = ""

    # False for sources that are not object stores (a database): the runner then skips listing and passes the URI.
    lists_objects: ClassVar[bool] = True

    @classmethod
    def detect(cls, objects: list[SourceObject], peek=None) -> int:
        """How sure (0-100) this format is the one these objects hold, from names and, if needed, `peek()`:
        the first 64 KiB (decompressed) of the first object."""
        return 0

    def run(self, objects: list[SourceObject], ctx: LoadContext) -> None:
        """Load the objects (or, when lists_objects is False, the source at ctx.source_uri)."""
        raise NotImplementedError


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
