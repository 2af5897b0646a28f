"""Runs one ingest: list the source, pick the format, load everything in ONE transaction, report the counts.

A run killed at any point leaves the warehouse as it was before the run (DuckDB rolls back the open transaction
when the process dies) and the next run starts over; a finished run is complete. A run that fails with an error is
rolled back and then recorded in meta.loads as failed, with the message.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

from costwarden import db, reference
from costwarden.config import Settings, SourceSettings
from costwarden.errors import CostwardenError
from costwarden.faults import checkpoint
from ingest import registry
from ingest.base import Counts, LoadContext, now
from ingest.storage import Fetcher, SourceObject, list_objects

PEEK_BYTES = 64 * 1024


@dataclass
class RunReport:
    load_id: str
    source: str
    uri: str
    format: str
    counts: Counts
    seconds: float

    def line(self) -> str:
        c = self.counts
        text = (f"{self.source or self.uri} [{self.format}]: files {c.files_seen} (loaded {c.files_loaded}, "
                f"skipped {c.files_skipped}, failed {c.files_failed}); rows read {c.rows_read:,} = loaded "
                f"{c.rows_loaded:,} + quarantined {c.rows_quarantined:,}; skipped {c.rows_skipped:,} already "
                f"loaded")
        if c.rows_unpriced:
            text += f"; {c.rows_unpriced:,} requests have no price (see `costwarden query` on ref.price_book)"
        return text + f" ({self.seconds:.1f}s)"


def redact(uri: str) -> str:
    """A URI fit to print and store: any password in `scheme://user:password@host` becomes ***."""
    return re.sub(r"(://[^/@:]*:)[^@/]*@", r"\1***@", uri)


def _is_database(uri: str) -> bool:
    return uri.startswith("env:") or uri.split("://", 1)[0].startswith(("postgres", "mysql", "sqlite"))


def new_load_id() -> str:
    return now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def _peek(objects: list[SourceObject], fetcher: Fetcher):
    def peek() -> bytes:
        if not objects:
            return b""
        data = fetcher.read_bytes(objects[0])
        if data[:2] == b"\x1f\x8b":
            data = zlib.decompressobj(wbits=31).decompress(data, PEEK_BYTES)
        return data[:PEEK_BYTES]
    return peek


def ingest(settings: Settings, warehouse: str, uri: str, fmt: str | None = None,
           source: SourceSettings | None = None, show_progress: bool | None = None) -> RunReport:
    started = time.perf_counter()
    fmt = fmt or (source.format if source else None) or None
    with Fetcher(settings.s3) as fetcher:
        cls = registry.get(fmt) if fmt else None
        if cls is None and _is_database(uri):
            cls = registry.get("litellm_db")  # the only database source today
        objects: list[SourceObject] = []
        if cls is None or cls.lists_objects:
            objects = list_objects(uri, settings.s3)
        if cls is None:
            cls = registry.detect(uri, objects, _peek(objects, fetcher))
        con = db.connect(warehouse, memory_limit=settings.ingest.memory_limit, threads=settings.ingest.threads)
        load_id = new_load_id()
        progress, stop_progress = _progress(show_progress, uri)
        scratch_root = Path(str(warehouse) + ".scratch")
        shutil.rmtree(scratch_root, ignore_errors=True)  # left by a killed run; we hold the writer lock now
        ctx = LoadContext(con, settings, load_id, cls.format, fetcher, progress, scratch_root / load_id)
        ctx.source_uri, ctx.source = uri, source
        started_at = now()
        try:
            with db.transaction(con):
                reference.refresh(con, settings)
                cls().run(objects, ctx)
                if cls.family == "requests":
                    ctx.publish_requests()
                    ctx.count_unpriced_requests()
                _record_load(con, ctx, source, uri, started_at, "ok", "; ".join(ctx.counts.failures) or None)
                checkpoint("ingest:before-commit")
        except BaseException as exc:
            message = str(exc) if isinstance(exc, CostwardenError) else f"{type(exc).__name__}: {exc}"
            try:
                with db.transaction(con):
                    _record_load(con, LoadContext(con, settings, load_id, cls.format, fetcher), source, uri,
                                 started_at, "failed", message or "interrupted")
            except Exception:  # the original error matters more than the bookkeeping
                pass
            raise
        finally:
            stop_progress()
            shutil.rmtree(scratch_root, ignore_errors=True)
        from costwarden.warehouse import build
        build(con, only_views=True)
        con.close()
    return RunReport(load_id, source.name if source else "", redact(uri), cls.format, ctx.counts,
                     time.perf_counter() - started)


def ingest_configured(settings: Settings, warehouse: str, show_progress: bool | None = None) -> list[RunReport]:
    if not settings.sources:
        raise CostwardenError("no sources are configured. Pass a file, folder or s3:// URI to `costwarden ingest`, "
                              "or add [[sources]] entries to the config (see costwarden.example.toml).")
    return [ingest(settings, warehouse, s.uri, s.format or None, s, show_progress) for s in settings.sources]


def _record_load(con, ctx: LoadContext, source, uri, started_at, status, message) -> None:
    c = ctx.counts
    con.execute("insert into meta.loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [ctx.load_id, started_at, now(), source.name if source else None, redact(uri), ctx.format, status,
                 c.files_seen, c.files_loaded, c.files_skipped, c.files_failed, c.rows_read, c.rows_loaded,
                 c.rows_quarantined, c.rows_skipped, c.rows_unpriced, message])


def _progress(show: bool | None, uri: str):
    """A rich progress line (files and rows) on a terminal; nothing when piped or in CI."""
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return None, lambda: None
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True)
    uri = redact(uri)
    task = bar.add_task(f"ingesting {uri}")
    totals = {"files": 0, "rows": 0}
    bar.start()

    def advance(files: int, rows: int) -> None:
        totals["files"] += files
        totals["rows"] += rows
        bar.update(task, description=f"ingesting {uri}: {totals['files']:,} files, {totals['rows']:,} rows")

    return advance, bar.stop
