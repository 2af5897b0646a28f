"""Shared driver for request logs that arrive as JSON lines (optionally gzip): Bedrock, LiteLLM exports, JSONL.

Reads objects one at a time, batches their lines up to `[ingest] batch_bytes`, quarantines lines that are not
UTF-8 or not JSON, and hands the rest to the subclass's SQL mapping. One unreadable file is reported by name and
the others still load.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pyarrow as pa

from costwarden.errors import BadInputError, SourceError
from costwarden.faults import checkpoint
from ingest.base import Ingestor, LoadContext
from ingest.lines import decompress, line_table
from ingest.storage import SourceObject

PREFETCH = 1  # objects read ahead of the one being batched


class JsonLinesIngestor(Ingestor):
    family = "requests"

    def accepts(self, obj: SourceObject) -> bool:
        """Objects of the source that are records of this format (others are ignored, not counted)."""
        return True

    def select_sql(self, lines: str) -> str:
        """A SELECT over relation `lines` (_source_object, _source_line, line) giving canonical request columns.

        `line` is guaranteed to be valid JSON. The salted-hash helper may use the parameter $salt.
        """
        raise NotImplementedError

    def prepare(self, data: bytes, obj: SourceObject) -> bytes:
        """Hook to turn a file's bytes into JSON lines (e.g. a JSON array export). Default: as is."""
        return data

    def read_object(self, obj: SourceObject, ctx: LoadContext) -> tuple[pa.Table, list]:
        """Fetch, decompress and split one object into lines (runs on the prefetch thread)."""
        data = self.prepare(decompress(ctx.fetcher.read_bytes(obj), obj.uri), obj)
        table, bad = line_table(data)
        return table, bad, len(data)

    def run(self, objects: list[SourceObject], ctx: LoadContext) -> None:
        todo = []
        for obj in objects:
            if not self.accepts(obj):
                continue
            ctx.counts.files_seen += 1
            if ctx.already_loaded(obj):
                ctx.skip_object(obj)
            else:
                todo.append(obj)
        batch: list[tuple[SourceObject, pa.Table, int]] = []
        batch_bytes = 0
        # Decompressing and splitting the next file overlaps with DuckDB parsing the current batch (zlib and
        # numpy release the GIL), so the single-threaded Python part costs little wall time.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="costwarden-read") as pool:
            pending = deque(pool.submit(self.read_object, obj, ctx) for obj in todo[:PREFETCH])
            for index, obj in enumerate(todo):
                future = pending.popleft()
                if index + PREFETCH < len(todo):
                    pending.append(pool.submit(self.read_object, todo[index + PREFETCH], ctx))
                try:
                    table, bad, size = future.result()
                except (BadInputError, SourceError) as exc:
                    ctx.file_failed(obj, str(exc))
                    continue
                ctx.quarantine_lines(obj.uri, bad)
                uri_column = pa.array([obj.uri] * table.num_rows, pa.string()).dictionary_encode()
                batch.append((obj, table.append_column("_source_object", uri_column), len(bad)))
                batch_bytes += size
                if batch_bytes >= ctx.settings.ingest.batch_bytes:
                    self._flush(batch, ctx)
                    batch, batch_bytes = [], 0
        if batch:
            self._flush(batch, ctx)

    def _flush(self, batch, ctx: LoadContext) -> None:
        lines = pa.concat_tables([t.select(["_source_object", "line_no", "line"]) for _, t, _ in batch])
        view = ctx.temp_name("lines")
        ctx.con.register(view, lines)
        try:
            invalid_by_object: dict[str, int] = {}
            for (uri,) in ctx.con.execute(
                    f"insert into meta.quarantine select $load_id, $fmt, _source_object, line_no, "
                    f"'line is not valid JSON', null, null, now() from {view} where not json_valid(line) "
                    f"returning object_uri", {"load_id": ctx.load_id, "fmt": ctx.format}).fetchall():
                invalid_by_object[uri] = invalid_by_object.get(uri, 0) + 1
            invalid = sum(invalid_by_object.values())
            ctx.counts.rows_read += invalid
            ctx.counts.rows_quarantined += invalid
            source = (f"(select cast(_source_object as varchar) as _source_object, line_no as _source_line, line "
                      f"from {view} where json_valid(line))")
            sql = self.select_sql(source)
            per_object = ctx.load_requests(sql, {"salt": ctx.salt} if "$salt" in sql else None)
            checkpoint("ingest:after-batch")
        finally:
            try:
                ctx.con.unregister(view)
            except duckdb.Error:  # the transaction is already aborted; the rollback drops the view anyway
                pass
        for obj, _, not_utf8 in batch:
            ctx.object_loaded(obj, per_object.get(obj.uri), not_utf8 + invalid_by_object.get(obj.uri, 0))
