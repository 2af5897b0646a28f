"""CSV/Parquet staging: row numbers stay right inside the run's transaction; malformed rows are quarantined."""

from __future__ import annotations

import gzip

import pytest

from costwarden import db
from costwarden.errors import BadInputError
from ingest.base import LoadContext
from ingest.storage import Fetcher, list_objects
from ingest.tabular import stage_file

CSV = b"a,b,c\n1,2,3\n4,5\n6,7,8\n9,\xff\xfe,10\n11,12,13\n"


@pytest.fixture
def ctx(warehouse, settings):
    con = db.connect(warehouse)
    context = LoadContext(con, settings, "load-1", "test", Fetcher(settings.s3))
    con.execute("begin transaction")  # the runner always stages inside its transaction
    yield context
    con.execute("rollback")
    con.close()


@pytest.mark.parametrize("compressed", [False, True])
def test_good_rows_keep_their_file_line_and_bad_rows_are_quarantined(tmp_path, ctx, compressed):
    path = tmp_path / ("t.csv.gz" if compressed else "t.csv")
    path.write_bytes(gzip.compress(CSV) if compressed else CSV)
    obj = list_objects(str(path), ctx.settings.s3)[0]
    staged = stage_file(ctx, obj, path)
    rows = ctx.con.execute(f"select a, _source_line from {staged.table} order by _source_line").fetchall()
    assert rows == [("1", 2), ("6", 4), ("11", 6)]
    assert (staged.rows, staged.rejected) == (3, 2)
    quarantined = ctx.con.execute("select line_no, reason from meta.quarantine order by line_no").fetchall()
    assert [q[0] for q in quarantined] == [3, 5] and "UTF-8" in quarantined[1][1]
    assert ctx.counts.rows_read == ctx.counts.rows_quarantined == 2


def test_clean_csv_rows_are_numbered_from_line_two(tmp_path, ctx):
    path = tmp_path / "clean.csv"
    path.write_text("a\nx\ny\nz\n")
    staged = stage_file(ctx, list_objects(str(path), ctx.settings.s3)[0], path)
    assert ctx.con.execute(f"select a, _source_line from {staged.table} order by 2").fetchall() == \
        [("x", 2), ("y", 3), ("z", 4)]


def test_truncated_gzip_is_a_whole_file_error_not_a_short_file(tmp_path, ctx):
    path = tmp_path / "cut.csv.gz"
    whole = gzip.compress(b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * 7919 % 1000) for i in range(5000)))
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(BadInputError, match="cut.csv.gz is not a complete gzip file"):
        stage_file(ctx, list_objects(str(path), ctx.settings.s3)[0], path)
