"""Writing one query's rows to CSV, Parquet or XLSX, with exact decimals in every format.

- CSV: DuckDB's COPY; decimals are written as their exact decimal text, timestamps as FOCUS's
  YYYY-MM-DDTHH:MM:SSZ.
- Parquet: DuckDB's COPY; money stays DECIMAL(38, 10) (unit prices DECIMAL(38, 18)), times are UTC timestamps
  (isAdjustedToUTC).
- XLSX: openpyxl, streaming. Each amount is a numeric cell whose XML holds the exact decimal text (openpyxl alone
  would write it through a float with 16 significant digits), with a number format showing all its decimals.
  Excel itself reads numbers into IEEE doubles (15 significant digits): an amount with more significant digits
  (e.g. 123456.1234567891) shows and sums rounded in Excel; the file holds the exact text, which other readers
  see as written. Times are Excel date-times in UTC (Excel has no time zones).

The file appears whole or not at all: rows go to a temporary file beside the target, renamed at the end.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import duckdb

from costwarden.errors import CostwardenError, UsageError

class ExportWriteError(CostwardenError):
    """The file could not be written although its folder was writable when the export began."""


FORMATS = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}
XLSX_MAX_ROWS = 1_048_576 - 1      # Excel's sheet limit, less the header row


def output_format(out: str) -> str:
    """The format from the file name's extension; an unknown one is a one-line error naming the choices."""
    suffix = Path(out).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"cannot tell the format of {out!r} from its extension: name the file .csv, .parquet or "
                         ".xlsx (e.g. --out chargeback-2026-09.parquet).")
    return FORMATS[suffix]


def check_target(out: str) -> str:
    """Before any work: the format from the extension, and a folder we can write the file into. Returns the format.

    The partial file is created here, so a folder that does not exist, a read-only one, or an --out naming a folder
    is a one-line error now rather than an unexpected one after a minute of computing.
    """
    fmt = output_format(out)
    target = Path(out)
    if not target.parent.is_dir():
        raise UsageError(f"folder {target.parent} does not exist: create it or choose another --out path.")
    if target.is_dir():
        raise UsageError(f"{out} is a folder: name the file to write, e.g. --out {target / 'export'}.{fmt}.")
    partial = _partial(target)
    try:
        partial.touch()
        partial.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to folder {target.parent} ({exc.strerror}): choose another --out path.") \
            from None
    return fmt


def write(con: duckdb.DuckDBPyConnection, query: str, params: list, out: str) -> int:
    """Write the rows of `query` to `out` in the format its extension names. Returns the number of rows."""
    fmt = check_target(out)
    target = Path(out)
    partial = _partial(target)
    try:
        if fmt == "xlsx":
            rows = _write_xlsx(con, query, params, partial)
        else:
            rows = _copy(con, query, params, partial, fmt)
        os.replace(partial, target)
    except (OSError, duckdb.IOException) as exc:
        # the folder was writable a moment ago (check_target): a full disk, a quota, a folder removed meanwhile
        raise ExportWriteError(f"could not write {out}: {exc}; nothing was written.") from None
    finally:
        if partial.exists():
            partial.unlink()
    return rows


def _partial(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial")


def _typed_columns(con: duckdb.DuckDBPyConnection, query: str, params: list) -> list[tuple[str, str]]:
    relation = con.sql(query, params=params)
    return [(name, str(sql_type)) for name, sql_type in zip(relation.columns, relation.types)]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _copy(con: duckdb.DuckDBPyConnection, query: str, params: list, path: Path, fmt: str) -> int:
    columns = _typed_columns(con, query, params)
    exprs = []
    for name, sql_type in columns:
        q = _quoted(name)
        if sql_type.startswith("TIMESTAMP"):
            # CSV: FOCUS's UTC form; Parquet: a UTC-adjusted timestamp (the session time zone is UTC)
            exprs.append(f"strftime({q}, '%Y-%m-%dT%H:%M:%SZ') as {q}" if fmt == "csv"
                         else f"cast({q} as timestamptz) as {q}")
        else:
            exprs.append(q)
    select = f"select {', '.join(exprs)} from ({query})"
    options = "format csv, header true" if fmt == "csv" else "format parquet, compression zstd"
    literal = str(path).replace("'", "''")      # COPY ... TO takes no parameter for its file name
    con.execute(f"copy ({select}) to '{literal}' ({options})", params)
    return con.execute(f"select count(*) from ({query})", params).fetchone()[0]


def _write_xlsx(con: duckdb.DuckDBPyConnection, query: str, params: list, path: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    count = con.execute(f"select count(*) from ({query})", params).fetchone()[0]
    if count > XLSX_MAX_ROWS:
        raise UsageError(f"{count:,} rows do not fit in one Excel sheet ({XLSX_MAX_ROWS:,} at most): export to "
                         ".parquet or .csv instead, or narrow it with --scope.")
    columns = _typed_columns(con, query, params)
    formats = []
    for _, sql_type in columns:
        if sql_type.startswith("DECIMAL"):
            scale = int(sql_type.rstrip(")").split(",")[1])
            formats.append("0." + "0" * scale)
        elif sql_type.startswith("TIMESTAMP"):
            formats.append("yyyy-mm-dd hh:mm:ss")
        elif sql_type == "DATE":
            formats.append("yyyy-mm-dd")
        else:
            formats.append(None)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append([name for name, _ in columns])
    cursor = con.execute(query, params)
    while batch := cursor.fetchmany(10_000):
        for row in batch:
            cells = []
            for value, number_format in zip(row, formats):
                if number_format is None or value is None:
                    cells.append(value)
                    continue
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, Decimal):
                    # openpyxl writes numbers with "%.16g" (through a float: 0.0093477195 would become
                    # 0.009347719500000001); a numeric cell whose value is the decimal's own text is written as is.
                    cell._value, cell.data_type = format(value, "f"), "n"
                cell.number_format = number_format
                cells.append(cell)
            sheet.append(cells)
    book.save(path)
    return count
