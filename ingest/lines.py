"""Turn a (possibly gzip-compressed) line-delimited file into an Arrow table of (line_no, line) without copying.

Why not DuckDB's read_json directly: it cannot tell us which line of which file was malformed, and quarantine
needs file + line + reason for every refused row. Splitting on newlines with numpy and wrapping the buffer as an
Arrow string array costs almost nothing; DuckDB then parses the JSON in parallel.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from costwarden.errors import BadInputError

ARROW_BATCH_ROWS = 32_768


@dataclass(frozen=True)
class BadLine:
    line_no: int
    reason: str


def decompress(data: bytes, name: str) -> bytes:
    """gzip by magic number, not by file name; a truncated or corrupt stream is a whole-file error."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise BadInputError(f"{name} is not a complete gzip file ({exc}); it may still be uploading or was "
                            "truncated. Re-deliver it and run the ingest again; the other files were loaded.") from None


def line_table(data: bytes) -> tuple[pa.Table, list[BadLine]]:
    """Non-blank lines as an Arrow table (line_no int64, line large_string), plus lines that are not UTF-8.

    Each value keeps its trailing newline (JSON parsers treat it as whitespace), which lets the Arrow array point
    straight into `data` with no copy. Invalid UTF-8 lines are returned in the bad list and left out, so one stray
    byte costs one row, not the file.
    """
    if not data:
        return _empty(), []
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    offsets = np.concatenate(([0], newlines + 1)).astype(np.int64)
    if offsets[-1] != len(data):
        offsets = np.append(offsets, len(data))      # last line without a final newline
    count = len(offsets) - 1
    strings = pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data))
    line_numbers = np.arange(1, count + 1, dtype=np.int64)
    keep = np.ones(count, dtype=bool)
    lengths = np.diff(offsets)
    for i in np.flatnonzero(lengths <= 16):           # blank lines carry no record; only short ones can be
        if not data[offsets[i]:offsets[i + 1]].strip():
            keep[i] = False
    bad: list[BadLine] = []
    try:
        strings.validate(full=True)
    except pa.ArrowInvalid:
        for i in range(count):
            try:
                data[offsets[i]:offsets[i + 1]].decode("utf-8")
            except UnicodeDecodeError as exc:
                keep[i] = False
                bad.append(BadLine(int(line_numbers[i]), f"line is not valid UTF-8 (byte {exc.start + 1}); "
                                                         "re-export the file as UTF-8"))
    if not keep.all():
        mask = pa.array(keep)
        strings, line_numbers = strings.filter(mask), line_numbers[keep]
    table = pa.table({"line_no": pa.array(line_numbers, pa.int64()), "line": strings})
    return pa.Table.from_batches(table.to_batches(max_chunksize=ARROW_BATCH_ROWS), table.schema), bad


def _empty() -> pa.Table:
    return pa.table({"line_no": pa.array([], pa.int64()), "line": pa.array([], pa.large_string())})
