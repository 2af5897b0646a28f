"""FOCUS 1.0, 1.1 and 1.2 cost exports (CSV, gzip CSV, Parquet) from AWS, Azure, Google Cloud and Oracle OCI.

Each delivery (focus_layout.py) is loaded whole or not at all: its files are staged (tabular.py), mapped onto
COST_COLUMNS (focus_columns.py), split by billing period, and each period's slice replaces that period of the
delivery's dataset, unless the warehouse already holds a newer delivery. The FOCUS version read from the columns
is kept in the delivery's version string (meta.billing_periods.version, meta.source_objects.version), e.g.
"manifest:exec-42 (FOCUS 1.2)"; raw.cost_lines has no column for it.
"""

from __future__ import annotations

from costwarden.errors import BadInputError, SourceError
from ingest.base import COST_COLUMNS, Ingestor, LoadContext, warn
from ingest.focus_columns import map_file
from ingest.focus_layout import Delivery, plan, read_manifest
from ingest.lines import BadLine
from ingest.storage import SourceObject
from ingest.tabular import StagedFile, drop, file_kind, stage_file

_NO_PERIOD = ("no billing period: neither BillingPeriodStart nor ChargePeriodStart is a timestamp")


class FocusExports(Ingestor):
    format = "focus"
    family = "costs"
    title = "FOCUS 1.0-1.2 cost exports (AWS, Azure, Google Cloud, Oracle OCI)"

    @classmethod
    def detect(cls, objects: list[SourceObject], peek=None) -> int:
        if any("focus reports/" in o.uri.lower() or "focus_reports/" in o.uri.lower() for o in objects):
            return 90
        if peek:
            head = peek().lower()
            if b"billedcost" in head and b"chargeperiodstart" in head:
                return 95
            if b'"focuscost"' in head:        # Azure export manifest of a FOCUS export (its date-range folders
                return 95                      # look like legacy CUR's, hence as sure as a header)
        # Large Parquet files keep their column names at the end, out of peek's reach: fall back on the name.
        if any("focus" in o.relpath.lower() and file_kind(o.name) for o in objects):
            return 70
        return 0

    def run(self, objects: list[SourceObject], ctx: LoadContext) -> None:
        layout = plan(objects, lambda obj: self._manifest(obj, ctx))
        for delivery in layout.older:
            self._supersede(delivery, ctx, "a newer delivery of the same dataset is in the source")
        ignored: set[str] = set()
        for delivery in layout.newest:
            self._load(delivery, ctx, ignored)
        if ignored:
            warn(f"ignored columns that are not FOCUS 1.0-1.2 (nor x_ServiceCode/x_UsageType/x_Operation): "
                 f"{', '.join(sorted(ignored)[:12])}{' ...' if len(ignored) > 12 else ''}")

    # -- one delivery

    def _load(self, delivery: Delivery, ctx: LoadContext, ignored: set[str]) -> None:
        ctx.counts.files_seen += len(delivery.files)
        if delivery.problem:
            culprit = delivery.files[0] if delivery.files else delivery.manifest
            if not delivery.files:
                ctx.counts.files_seen += 1        # the manifest stands for its missing files in the counts
            self._fail(delivery, culprit, delivery.problem, ctx)
            return
        if all(ctx.already_loaded(obj) for obj in delivery.files):
            for obj in delivery.files:
                ctx.skip_object(obj)
            return
        stored = self._stored_periods(delivery.dataset, ctx) if delivery.restates_dataset else {}
        if stored and all(at is not None and at > delivery.version_at for at in stored.values()):
            self._supersede(delivery, ctx, "the warehouse holds a newer delivery", counted=True)
            return
        table = ctx.temp_name("focus_delivery")
        ctx.con.execute(f"create temp table {table} as select cast(null as varchar) as _source_object, "
                        f"cast(null as bigint) as _source_line, {_canonical_nulls()}, cast(null as date) as _period, "
                        f"false as _tags_unreadable limit 0")
        staged: list[StagedFile] = []
        versions: set[str] = set()
        current = delivery.files[0]
        try:
            for current in delivery.files:
                with ctx.fetcher.local_path(current) as path:
                    staged.append(stage_file(ctx, current, path))
                mapping = map_file(staged[-1].table, self._types(staged[-1].table, ctx), current.uri)
                versions.add(mapping.version)
                ignored.update(mapping.ignored)
                ctx.con.execute(f"insert into {table} by name {mapping.select_sql}")
                drop(ctx, staged[-1])
        except (BadInputError, SourceError) as exc:
            self._undo_staging(delivery, staged, ctx)
            ctx.con.execute(f"drop table {table}")
            self._fail(delivery, current, str(exc), ctx)
            return
        version = f"{delivery.version_id} (FOCUS {'+'.join(sorted(versions))})"
        self._quarantine_without_period(table, ctx)
        self._warn_unreadable_tags(table, ctx)
        periods = [row[0] for row in ctx.con.execute(f"select distinct _period from {table} order by 1").fetchall()]
        # Periods the dataset held before but this delivery no longer has are emptied when the delivery restates
        # its whole dataset (the newer delivery says they have no rows now).
        for period in sorted(set(periods) | set(stored)):
            known = ctx.current_period_version(delivery.dataset, period)
            if known and known[1] is not None and known[1] > delivery.version_at:
                continue            # this period already holds a newer delivery's rows
            ctx.replace_billing_period(
                dataset=delivery.dataset, billing_period=period, version=version, version_at=delivery.version_at,
                manifest_uri=delivery.manifest.uri if delivery.manifest else None,
                source_sql=f"select * exclude (_period, _tags_unreadable) from {table} where _period = $period",
                params={"period": period})
        self._record(delivery, staged, periods, version, ctx)
        ctx.con.execute(f"drop table {table}")

    def _record(self, delivery: Delivery, staged: list[StagedFile], periods, version: str, ctx) -> None:
        for obj, file in zip(delivery.files, staged):
            quarantined = ctx.con.execute("select count(*) from meta.quarantine where load_id = ? and object_uri = ?",
                                          [ctx.load_id, obj.uri]).fetchone()[0]
            loaded_by_period = ctx.con.execute(
                "select billing_period, count(*) from raw.cost_lines where _load_id = ? and _source_object = ? "
                "group by 1", [ctx.load_id, obj.uri]).fetchall()
            single = loaded_by_period[0][0] if len(loaded_by_period) == 1 else (
                periods[0] if len(periods) == 1 else None)
            ctx.record_object(obj, read=file.rows + file.rejected, loaded=sum(n for _, n in loaded_by_period),
                              quarantined=quarantined, dataset=delivery.dataset, billing_period=single,
                              version=version)
            ctx.counts.files_loaded += 1
            ctx._advance(files=1)

    # -- helpers

    @staticmethod
    def _manifest(obj: SourceObject, ctx: LoadContext):
        try:
            doc = read_manifest(ctx.fetcher.read_bytes(obj))
        except SourceError as exc:
            warn(f"{exc}; listing the data files instead")
            return None
        if doc is None:
            warn(f"{obj.uri} is not valid JSON; listing the data files instead")
        return doc

    @staticmethod
    def _types(table: str, ctx: LoadContext) -> list[tuple[str, str]]:
        rows = ctx.con.execute(f"describe {table}").fetchall()
        return [(r[0], r[1]) for r in rows if r[0] not in ("_source_object", "_source_line")]

    @staticmethod
    def _stored_periods(dataset: str, ctx: LoadContext) -> dict:
        return dict(ctx.con.execute(
            "select billing_period, arg_max(version_at, replaced_at) from meta.billing_periods where dataset = ? "
            "group by 1", [dataset]).fetchall())

    @staticmethod
    def _supersede(delivery: Delivery, ctx: LoadContext, why: str, counted: bool = False) -> None:
        if not counted:
            ctx.counts.files_seen += len(delivery.files)
        newly = 0
        for obj in delivery.files:
            if not ctx.already_loaded(obj):
                ctx.record_object(obj, "superseded", dataset=delivery.dataset, version=delivery.version_id)
                newly += 1
            ctx.skip_object(obj)
        if newly:      # said once: the ledger remembers superseded files, later runs skip them quietly
            warn(f"skipped {newly} file(s) of {delivery.dataset} ({delivery.version_id}): {why}")

    @staticmethod
    def _fail(delivery: Delivery, culprit: SourceObject, message: str, ctx: LoadContext) -> None:
        """The whole delivery stays out (a period is only replaced by a complete delivery); the culprit is named."""
        others = [obj for obj in delivery.files if obj is not culprit]
        if others:
            message += (f" The {len(others)} other file(s) of this delivery were not loaded either: a billing "
                        "period is only replaced by a complete delivery.")
        ctx.file_failed(culprit, message)
        for obj in others:
            ctx.skip_object(obj)

    @staticmethod
    def _undo_staging(delivery: Delivery, staged: list[StagedFile], ctx: LoadContext) -> None:
        """Malformed rows quarantined while staging a delivery that then failed are not part of this run: the
        next run reads the delivery again and quarantines them then."""
        for file in staged:
            drop(ctx, file)
        rejected = sum(file.rejected for file in staged)
        if rejected:
            ctx.con.execute("delete from meta.quarantine where load_id = ? and object_uri in "
                            "(select unnest(?::varchar[]))", [ctx.load_id, [o.uri for o in delivery.files]])
            ctx.counts.rows_read -= rejected
            ctx.counts.rows_quarantined -= rejected

    @staticmethod
    def _quarantine_without_period(table: str, ctx: LoadContext) -> None:
        rows = ctx.con.execute(f"select _source_object, _source_line from {table} where _period is null "
                               f"order by 1, 2").fetchall()
        by_object: dict[str, list[BadLine]] = {}
        for uri, line in rows:
            by_object.setdefault(uri, []).append(BadLine(line, _NO_PERIOD))
        for uri, bad in by_object.items():
            ctx.quarantine_lines(uri, bad)
        if rows:
            ctx.con.execute(f"delete from {table} where _period is null")

    @staticmethod
    def _warn_unreadable_tags(table: str, ctx: LoadContext) -> None:
        for uri, count in ctx.con.execute(f"select _source_object, count(*) from {table} where _tags_unreadable "
                                          f"group by 1 order by 1").fetchall():
            warn(f"{uri}: {count} row(s) have Tags that are not a JSON object; their tags were dropped "
                 "(the costs were loaded)")


def _canonical_nulls() -> str:
    return ", ".join(f"cast(null as {'map(varchar, varchar)' if name == 'tags' else 'varchar'}) as {name}"
                     for name, _, _ in COST_COLUMNS)
