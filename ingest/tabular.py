"""Stage one CSV (optionally gzip) or Parquet file into a DuckDB temp table with row numbers, for any ingestor.

CSV is read as text (every column VARCHAR; the base casts and quarantines wrong types with the row number).
Malformed CSV rows (wrong column count, invalid UTF-8) are quarantined here from DuckDB's reject tables, with
their line. Gzip is decompressed by us, not DuckDB, because DuckDB reads a truncated gzip file as if it simply
ended: we must report such a file instead of loading part of it.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from costwarden.errors import BadInputError
from ingest.base import LoadContext, now
from ingest.storage import SourceObject


@dataclass(frozen=True)
class StagedFile:
    table: str            # a view for this batch: the file's columns (as named in the file) + _source_object,
                          # _source_line; free it with drop()
    columns: list[str]    # the file's own column names, in file order
    rows: int             # rows staged (malformed rows excluded)
    rejected: int         # malformed rows already quarantined and counted as read + quarantined


def file_kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith((".parquet", ".parq")):
        return "parquet"
    if lower.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz")):
        return "csv"
    return None


def stage_file(ctx: LoadContext, obj: SourceObject, path: Path, kind: str | None = None) -> StagedFile:
    """Read one file into a temp table. Raises BadInputError (naming the file) if it cannot be read at all."""
    kind = kind or file_kind(obj.name)
    if kind == "parquet":
        return _stage_parquet(ctx, obj, path)
    if kind == "csv":
        with _plain_text_copy(obj, path) as plain:
            return _stage_csv(ctx, obj, plain)
    raise BadInputError(f"{obj.uri}: not a CSV or Parquet file (by its name); pass --format or rename it.")


def drop(ctx: LoadContext, staged: StagedFile) -> None:
    ctx.unstage(staged.table)


def _stage_parquet(ctx: LoadContext, obj: SourceObject, path: Path) -> StagedFile:
    try:
        table = ctx.stage(
            "file", "select * exclude (file_row_number), cast($uri as varchar) as _source_object, "
            "file_row_number + 1 as _source_line "
            "from read_parquet($path, file_row_number = true, hive_partitioning = false)",
            {"uri": obj.uri, "path": str(path)})
    except duckdb.Error as exc:
        raise BadInputError(f"{obj.uri} cannot be read as Parquet ({_first_line(exc)}); it may be truncated or "
                            "still being written. Re-deliver it; the other files were loaded.") from None
    return StagedFile(table, _columns(ctx, table), _count(ctx, table), 0)


def _stage_csv(ctx: LoadContext, obj: SourceObject, path: Path) -> StagedFile:
    rejects, scans = ctx.temp_name("rejects"), ctx.temp_name("scans")
    if path.stat().st_size == 0:
        raise BadInputError(f"{obj.uri} is empty (no header row); re-deliver it.")
    ctx.con.execute("SET preserve_insertion_order = true")  # rows must come back in file order (line numbers)
    try:
        rows = ctx.con.execute(
            f"select * from read_csv($path, header = true, all_varchar = true, store_rejects = true, "
            f"rejects_table = '{rejects}', rejects_scan = '{scans}', null_padding = false, encoding = 'utf-8')",
            {"path": str(path)}).to_arrow_table()
        bad = ctx.con.execute(
            f"select line, min(error_type), min(column_name) from {rejects} group by line order by line").fetchall()
    except duckdb.Error as exc:
        raise BadInputError(f"{obj.uri} cannot be read as CSV ({_first_line(exc)}). Check that it is a CSV with a "
                            "header row, UTF-8 encoded.") from None
    finally:
        ctx.con.execute("SET preserve_insertion_order = false")
    ctx.con.execute(f"drop table if exists {rejects}")
    ctx.con.execute(f"drop table if exists {scans}")
    # Good row k (0-based, file order) sits on the k-th line >= 2 that was not rejected. Exact unless a quoted
    # field spans several lines; then later rows are numbered as if each row took one line.
    count = rows.num_rows
    candidates = np.arange(2, count + len(bad) + 2, dtype=np.int64)
    if bad:
        candidates = candidates[~np.isin(candidates, np.array([b[0] for b in bad], dtype=np.int64))]
    rows = rows.append_column("_source_object", pa.array([obj.uri] * count, pa.string()).dictionary_encode())
    rows = rows.append_column("_source_line", pa.array(candidates[:count]))
    if bad:
        at = now()
        ctx.con.executemany(
            "insert into meta.quarantine values (?, ?, ?, ?, ?, ?, ?, ?)",
            [(ctx.load_id, ctx.format, obj.uri, line, _reject_reason(kind), column, None, at)
             for line, kind, column in bad])
        ctx.counts.rows_read += len(bad)
        ctx.counts.rows_quarantined += len(bad)
    table = ctx.stage_arrow("file", rows)
    return StagedFile(table, _columns(ctx, table), count, len(bad))


def _reject_reason(error_type: str) -> str:
    return {
        "MISSING COLUMNS": "row has fewer columns than the header",
        "TOO MANY COLUMNS": "row has more columns than the header",
        "INVALID ENCODING": "row is not valid UTF-8; re-export the file as UTF-8",
        "UNQUOTED VALUE": "malformed quoting",
        "LINE SIZE OVER MAXIMUM": "line too long",
    }.get(error_type, f"malformed CSV row ({error_type.lower()})")


class _plain_text_copy:
    """Context manager yielding an uncompressed path; gzip is checked end to end (truncation is an error)."""

    def __init__(self, obj: SourceObject, path: Path):
        self.obj, self.path, self.tmp = obj, path, None

    def __enter__(self) -> Path:
        with open(self.path, "rb") as handle:
            if handle.read(2) != b"\x1f\x8b":
                return self.path
        fd, self.tmp = tempfile.mkstemp(prefix="costwarden-", suffix=".csv")
        try:
            with os.fdopen(fd, "wb") as out, gzip.open(self.path, "rb") as src:
                shutil.copyfileobj(src, out, 4 * 1024 * 1024)
        except (EOFError, OSError, zlib.error) as exc:
            self.__exit__()
            raise BadInputError(f"{self.obj.uri} is not a complete gzip file ({exc}); it may still be uploading or "
                                "was truncated. Re-deliver it and run the ingest again; the other files were "
                                "loaded.") from None
        return Path(self.tmp)

    def __exit__(self, *exc) -> None:
        if self.tmp and os.path.exists(self.tmp):
            os.remove(self.tmp)


def _columns(ctx: LoadContext, table: str) -> list[str]:
    names = [row[0] for row in ctx.con.execute(f"select * from {table} limit 0").description]
    return [n for n in names if n not in ("_source_object", "_source_line")]


def _count(ctx: LoadContext, table: str) -> int:
    return ctx.con.execute(f"select count(*) from {table}").fetchone()[0]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300]
