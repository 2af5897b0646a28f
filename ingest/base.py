"""What every ingestor shares: the load context (ledger, quarantine, counts) and validated inserts.

An ingestor's only job is to say, in SQL, where each canonical field sits in its format (`RequestFields` /
`CostFields` below name them) and to group objects into load units. This module casts, validates, quarantines
with a reason, deduplicates and records lineage the same way for every format, so `read = loaded + quarantined`
holds by construction: each row read ends in exactly one of the two.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar, Iterable

import duckdb

from costwarden.config import Settings
from costwarden.faults import checkpoint
from ingest.connection import RunConnection
from ingest.identity import hash_salt, hash_sql, principal_role_sql
from ingest.lines import BadLine
from ingest.storage import Fetcher, SourceObject

_tmp_names = itertools.count()


def _quoted(path: Path) -> str:
    """A path inside a SQL string literal (COPY ... TO takes no parameter for its file name)."""
    return str(path).replace("'", "''")


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
    """SELECT casting each canonical column, plus `_reject_reason/_reject_field/_reject_value`.

    Three layers so each value is trimmed and cast once: text (`<col>__t`), typed, then the checks. The first
    failing check wins: missing mandatory value, wrong type, then the extra (column, condition, reason) checks on
    the typed values.
    """
    texts, casts, checks = [], [], []
    for name, sql_type, mandatory in columns:
        if sql_type.startswith("map"):
            texts.append(f"s.{name} as {name}__t")
            casts.append(f"try_cast({name}__t as {sql_type}) as {name}")
            continue
        texts.append(f"nullif(trim(cast(s.{name} as varchar)), '') as {name}__t")
        casts.append(f"{name}__t as {name}" if sql_type == "varchar"
                     else f"try_cast({name}__t as {sql_type}) as {name}")
        if mandatory:
            checks.append((f"{name}__t is null", "missing mandatory field", name, "null"))
        if sql_type != "varchar":
            kind = {"bigint": "an integer", "double": "a number", "timestamp": "a timestamp"}.get(
                sql_type, "a decimal number")
            checks.append((f"{name}__t is not null and {name} is null", f"value is not {kind}", name,
                           f"left({name}__t, 80)"))
    for name, cond, why in extra_checks:
        checks.append((cond, why, name, f"cast({name} as varchar)"))
    reason = "case " + " ".join(f"when {cond} then '{why}'" for cond, why, _, _ in checks) + " end"
    field = "case " + " ".join(f"when {cond} then '{name}'" for cond, _, name, _ in checks) + " end"
    value = "case " + " ".join(f"when {cond} then {val}" for cond, _, _, val in checks) + " end"
    names = ", ".join(name for name, _, _ in columns)
    text_names = ", ".join(f"{name}__t" for name, _, _ in columns)
    return (f"select _source_object, _source_line, {names},\n"
            f"  {reason} as _reject_reason, {field} as _reject_field, {value} as _reject_value\n"
            f"from (select _source_object, _source_line, {text_names}, {', '.join(casts)}\n"
            f"  from (select s._source_object, s._source_line, {', '.join(texts)} from {{source}} s) t) typed")


def _refuse_unpriced(typed: str) -> str:
    """[ingest] unknown_models = "quarantine": a valid row whose model has no price is refused with the fix."""
    unpriced = ("_reject_reason is null and not exists (select 1 from ref.price_book p "
                "where p.provider = t.provider and p.model = t.model)")
    return (f"select * replace (case when {unpriced} then 'model has no price in the price book; add it under "
            f"[[prices]] in the config' else _reject_reason end as _reject_reason, "
            f"case when {unpriced} then 'model' else _reject_field end as _reject_field, "
            f"case when {unpriced} then model else _reject_value end as _reject_value) from ({typed}) t")


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
                 fetcher: Fetcher, progress=None, scratch_dir: Path | None = None):
        self.con = con if isinstance(con, RunConnection) else RunConnection(con)
        self.settings, self.load_id, self.format = settings, load_id, fmt
        self.fetcher, self.progress = fetcher, progress
        self.counts = Counts()
        self.source_uri = ""
        self.source = None            # the [[sources]] entry when run from the config, else None
        self._staged: dict = {}       # name -> Arrow table registered as a view (see stage)
        self.scratch_dir: Path | None = scratch_dir  # this run's scratch folder (see load_requests)
        self._request_files: list[str] = []
        self._seen_ids: str | None = None  # temp table of request ids this run has written so far
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

    def object_loaded(self, obj: SourceObject, rows: "ObjectRows | None", extra_quarantined: int = 0) -> None:
        """Ledger entry and counts for one object whose rows went through load_requests; `extra_quarantined` are
        its rows refused before that (not UTF-8, not JSON, malformed CSV)."""
        self.record_object(obj, read=(rows.read if rows else 0) + extra_quarantined,
                           loaded=rows.loaded if rows else 0,
                           quarantined=(rows.quarantined if rows else 0) + extra_quarantined)
        self.counts.files_loaded += 1
        self._advance(files=1)

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

    def stage(self, stem: str, sql: str, params: dict | None = None) -> str:
        """Run `sql` and keep its result for this batch as an Arrow-backed view; `unstage` frees it.

        Not a temp table: inside the run's transaction DuckDB keeps even a dropped table's data until commit
        (it could roll back), so a temp table per batch would grow memory with every batch of a large load.
        """
        return self.stage_arrow(stem, self.con.execute(sql, params or {}).to_arrow_table())

    def stage_arrow(self, stem: str, table) -> str:
        name = self.temp_name(stem)
        self._staged[name] = table
        self.con.register(name, table)
        return name

    def unstage(self, name: str) -> None:
        if self._staged.pop(name, None) is not None:
            self.con.unregister(name)

    # -- requests
    def load_requests(self, source_sql: str, params: dict | None = None) -> dict[str, "ObjectRows"]:
        """Validate, quarantine, deduplicate and insert requests produced by `source_sql`.

        `source_sql` is a SELECT yielding `_source_object`, `_source_line` and the canonical request columns (any may
        be text). Returns per-object row counts so callers can record the ledger.
        """
        typed = _typed_select(REQUEST_COLUMNS, REQUEST_CHECKS).replace("{source}", f"({source_sql})")
        if self.settings.ingest.unknown_models == "quarantine":
            typed = _refuse_unpriced(typed)
        staged = self.stage("requests", typed, params)
        self._quarantine_staged(staged)
        # Deduplicate on request id, against everything already loaded (earlier runs AND earlier batches of this
        # run) and, only when the batch repeats an id, within the batch (first line wins). A left join on the
        # existing ids, not `not exists`, which DuckDB plans as a costly delim join.
        existing = "(select request_id from raw.inference_requests where source_format = $fmt"
        params_existing: dict = {"fmt": self.format}
        if self._seen_ids:  # ids written by earlier batches of this run (not yet published)
            existing += f" union all select request_id from {self._seen_ids}"
        existing += ")"
        dup_by = dict(self.con.execute(
            f"select s._source_object, count(*) from {staged} s join {existing} r on r.request_id = s.request_id "
            f"where s._reject_reason is null group by 1", params_existing).fetchall())
        repeated_by: dict[str, int] = {}
        first_only = ""
        if self.con.execute(f"select count(*) - count(distinct request_id) from {staged} "
                            f"where _reject_reason is null").fetchone()[0]:
            first_only = "qualify row_number() over (partition by s.request_id order by s._source_object, " \
                         "s._source_line) = 1"
            repeated_by = dict(self.con.execute(
                f"select _source_object, count(*) from (select _source_object, row_number() over (partition by "
                f"request_id order by _source_object, _source_line) as n from {staged} s "
                f"where _reject_reason is null and not exists (select 1 from {existing} r "
                f"where r.request_id = s.request_id)) where n > 1 group by 1", params_existing).fetchall())
        selected = ", ".join(f"s.{name}" for name, _, _ in REQUEST_COLUMNS)
        # New rows go to a Parquet file in this run's scratch folder, not into raw yet: inside one transaction,
        # DuckDB keeps every insert's partial row groups in memory until commit, which would grow without bound
        # over a long load. publish_requests() moves them into raw in one statement just before commit.
        target = self._scratch_file("requests")
        self.con.execute(
            f"copy (select $fmt as source_format, {selected}, $load_id as _load_id, s._source_object, "
            f"s._source_line from {staged} s left join {existing} r on r.request_id = s.request_id "
            f"where s._reject_reason is null and r.request_id is null {first_only}) "
            f"to '{_quoted(target)}' (format parquet, compression uncompressed)",
            dict(params_existing, load_id=self.load_id)).fetchall()
        self._request_files.append(str(target))
        # Remember this batch's ids for the next batches' dedup: one small in-memory table of ids for the run,
        # rather than re-reading every earlier scratch file per batch (quadratic over a long load).
        if self._seen_ids is None:
            self._seen_ids = self.temp_name("seen_ids")
            self.con.execute(f"create temp table {self._seen_ids} (request_id varchar)")
        self.con.execute(f"insert into {self._seen_ids} select request_id from read_parquet($file)",
                         {"file": str(target)})
        per_object = {uri: ObjectRows(total, rejected,
                                      total - rejected - dup_by.get(uri, 0) - repeated_by.get(uri, 0))
                      for uri, total, rejected in self.con.execute(
                          f"select _source_object, count(*), count(*) filter (where _reject_reason is not null) "
                          f"from {staged} group by 1").fetchall()}
        total = sum(rows.read for rows in per_object.values())
        valid = total - sum(rows.quarantined for rows in per_object.values())
        loaded = sum(rows.loaded for rows in per_object.values())
        self.counts.rows_read += total - (valid - loaded)
        self.counts.rows_loaded += loaded
        self.counts.rows_skipped += valid - loaded
        self._advance(rows=total)
        self.unstage(staged)
        return per_object

    def _scratch_file(self, stem: str) -> Path:
        if self.scratch_dir is None:
            self.scratch_dir = Path(tempfile.mkdtemp(prefix="costwarden-scratch-"))
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        return self.scratch_dir / f"{stem}-{next(_tmp_names):06d}.parquet"

    def publish_requests(self) -> None:
        """Move this run's new requests from the scratch folder into raw, in one statement (inside the run's
        transaction, so they appear atomically with the ledger and the load record)."""
        if self._request_files:
            self.con.execute("insert into raw.inference_requests by name select * from read_parquet($files)",
                             {"files": list(self._request_files)}).fetchall()
            self._request_files.clear()

    def count_unpriced_requests(self) -> None:
        """Requests loaded by this run whose (provider, model) has no price in the book (once, at the end)."""
        self.counts.rows_unpriced = self.con.execute(
            "select count(*) from raw.inference_requests r where r._load_id = $load_id and not exists "
            "(select 1 from ref.price_book p where p.provider = r.provider and p.model = r.model)",
            {"load_id": self.load_id}).fetchone()[0]

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
        typed = _typed_select(COST_COLUMNS, COST_CHECKS).replace("{source}", f"({source_sql})")
        # Bedrock's IAM principal attribution names the caller; an assumed-role session name is often an e-mail.
        # Keep the role (it names a workload), and only a salted hash of any other principal.
        principal = "t.iam_principal"
        typed = (f"select * replace (coalesce({principal_role_sql(principal)}, {hash_sql(principal)}) "
                 f"as iam_principal) from ({typed}) t")
        # Staged as a scratch Parquet file, streamed: a month of a large bill as one in-memory table would not fit
        # the memory budget.
        target = self._scratch_file("costs")
        self.con.execute(f"copy ({typed}) to '{_quoted(target)}' (format parquet, compression uncompressed)",
                         dict(params or {}, salt=self.salt)).fetchall()
        staged = f"read_parquet('{_quoted(target)}')"
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
        target.unlink(missing_ok=True)
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
