"""Close a month of the demo company, then AWS restates it (a newer CUR 2.0 delivery with corrected tax): the
closed month's export is unchanged, the difference is booked per department and team in the next month, and the
months still add up to the bill."""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from costwarden.cli import main as cli_main


def _relocate(warehouse: str, old: str, new: str) -> None:
    """The copy's bill was loaded from the original folder; say it came from the copy's folder, so a delivery
    written there restates the same dataset (CUR datasets are named by their location)."""
    con = duckdb.connect(warehouse)
    con.execute("update raw.cost_lines set dataset = replace(dataset, ?, ?), "
                "_source_object = replace(_source_object, ?, ?)", [old, new, old, new])
    con.execute("update meta.billing_periods set dataset = replace(dataset, ?, ?), "
                "manifest_uri = replace(manifest_uri, ?, ?)", [old, new, old, new])
    con.execute("update meta.source_objects set dataset = replace(dataset, ?, ?), "
                "object_uri = replace(object_uri, ?, ?)", [old, new, old, new])
    con.close()


def _restate_tax(cur_root, period: str) -> Decimal:
    """Rewrite the period's delivery with every Tax line doubled and a newer manifest; returns the added cost."""
    data = next((cur_root / "data" / f"BILLING_PERIOD={period}").glob("*.parquet"))
    table = pq.read_table(data)
    is_tax = pc.equal(table["line_item_line_item_type"], "Tax")
    before = sum(Decimal(str(v)) for v in table.filter(is_tax)["line_item_unblended_cost"].to_pylist())
    doubled = pc.if_else(is_tax, pc.multiply(table["line_item_unblended_cost"], 2.0), table["line_item_unblended_cost"])
    table = table.set_column(table.schema.get_field_index("line_item_unblended_cost"), "line_item_unblended_cost",
                             doubled)
    pq.write_table(table, data, compression="snappy")
    manifest = next((cur_root / "metadata" / f"BILLING_PERIOD={period}").glob("*Manifest.json"))
    doc = json.loads(manifest.read_text())
    doc["executionId"] = "2026-11-20T00:00:00.000Z-restated"
    doc["deliveryTime"] = "2026-11-20T00:00:00.000Z"
    manifest.write_text(json.dumps(doc, indent=2))
    return before


def _sums(path, by: str) -> dict:
    con = duckdb.connect()
    rel = con.sql(f"select * from read_parquet('{path}')")
    rows = con.sql(f'select {by}, sum("BilledCost") from rel group by all').fetchall()
    return {(row[0] if len(row) == 2 else tuple(row[:-1])): row[-1] for row in rows}


def _bill(warehouse: str) -> dict:
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return dict(con.execute("select strftime(billing_period, '%Y-%m'), sum(billed_cost) from raw.cost_lines "
                                "group by 1").fetchall())
    finally:
        con.close()


@pytest.mark.slow
def test_closed_demo_month_survives_a_restatement_as_an_adjustment(demo_company, tmp_path, capsys):
    clone = demo_company.copy_to(tmp_path / "acme")
    _relocate(clone.warehouse, str(demo_company.folder), str(clone.folder))

    def cli(*args: str) -> int:
        code = cli_main(["--warehouse", clone.warehouse, "--config", clone.config, *args])
        out, err = capsys.readouterr()
        assert code == 0, out + err
        return code

    cli("build")                        # line keys name the source objects: rebuild after the relocation
    cli("close", "2026-08", "--by", "finance@acme")
    cli("export", "chargeback", "--month", "2026-08", "--out", str(tmp_path / "aug-closed.parquet"))
    cli("export", "chargeback", "--month", "2026-09", "--out", str(tmp_path / "sep-before.parquet"))
    bill_before = _bill(clone.warehouse)

    cur_root = clone.folder / "billing" / "cur2" / "acme-cur2"
    added = _restate_tax(cur_root, "2026-08")
    cli("ingest", str(cur_root), "--format", "cur2", "--no-progress")
    bill_after = _bill(clone.warehouse)
    assert bill_after["2026-08"] - bill_before["2026-08"] == added > 0      # the restatement replaced the period
    cli("build")

    cli("export", "chargeback", "--month", "2026-08", "--out", str(tmp_path / "aug-after.parquet"))
    cli("export", "chargeback", "--month", "2026-09", "--out", str(tmp_path / "sep-after.parquet"))
    assert (tmp_path / "aug-after.parquet").read_bytes() == (tmp_path / "aug-closed.parquet").read_bytes()

    adjustments = _sums(tmp_path / "sep-after.parquet",
                        "\"x_Department\", \"x_Team\", \"x_CostKind\" = 'adjustment'")
    booked = {k[:2]: v for k, v in adjustments.items() if k[2]}
    assert sum(booked.values()) == added and len(booked) > 1        # tax is shared: several teams pay their part
    assert all(v > 0 for v in booked.values())
    sep_own = sum(v for k, v in adjustments.items() if not k[2])
    assert sep_own == bill_after["2026-09"] == sum(_sums(tmp_path / "sep-before.parquet", "1").values())
    aug = sum(_sums(tmp_path / "aug-after.parquet", "1").values())
    assert aug + sep_own + added == bill_after["2026-08"] + bill_after["2026-09"]
