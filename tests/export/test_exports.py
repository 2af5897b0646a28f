"""`costwarden export chargeback|focus` on the demo company: every format exact, totals equal the bill, the
chargeback agrees with marts.allocated_cost, and bad input gives one line naming the fix."""

from __future__ import annotations

import zipfile
from decimal import Decimal

import duckdb
import pytest

from costwarden.cli import main as cli_main

MONTH = "2026-09"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def bill(warehouse: str, month: str = MONTH) -> dict[str, Decimal]:
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return dict(con.execute("select billing_currency, sum(billed_cost) from raw.cost_lines "
                                "where strftime(billing_period, '%Y-%m') = ? group by 1", [month]).fetchall())
    finally:
        con.close()


def read(path) -> duckdb.DuckDBPyRelation:
    con = duckdb.connect()
    if str(path).endswith(".csv"):
        # all text, so the sums below are over the exact decimal text as written
        return con, con.sql(f"select * from read_csv('{path}', all_varchar = true, header = true)")
    return con, con.sql(f"select * from read_parquet('{path}')")


@pytest.fixture(scope="module")
def exports(demo_company, tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    written = {}
    for name in ("chargeback.csv", "chargeback.parquet", "chargeback.xlsx", "focus.csv", "focus.parquet"):
        what = name.split(".")[0]
        code = cli_main(["--warehouse", demo_company.warehouse, "export", what, "--month", MONTH,
                         "--out", str(folder / name)])
        assert code == 0
        written[name] = folder / name
    return written


@pytest.mark.parametrize("name", ["chargeback.csv", "chargeback.parquet", "focus.csv", "focus.parquet"])
def test_export_adds_up_to_the_bill_of_the_month_exactly(exports, demo_company, name):
    con, rel = read(exports[name])
    got = dict(con.sql("select \"BillingCurrency\", sum(cast(\"BilledCost\" as decimal(38, 10))) from rel "
                       "group by 1").fetchall())
    assert got == bill(demo_company.warehouse) and got


def test_csv_keeps_every_decimal_as_written(exports, demo_company):
    con, rel = read(exports["focus.csv"])
    texts = {row[0] for row in con.sql('select "BilledCost" from rel').fetchall()}
    wh = duckdb.connect(demo_company.warehouse, read_only=True)
    expected = {format(v, "f") for (v,) in wh.execute(
        "select billed_cost from raw.cost_lines where billing_period = date '2026-09-01'").fetchall()}
    wh.close()
    assert texts == expected          # e.g. '0.0057900000': the decimal(38, 10) text, no float rounding


def test_parquet_money_is_decimal_and_times_are_utc(exports):
    import pyarrow.parquet as pq

    schema = pq.read_schema(exports["chargeback.parquet"])
    assert str(schema.field("BilledCost").type) == "decimal128(38, 10)"
    assert schema.field("ChargePeriodStart").type.tz in ("UTC", "+00:00", "Etc/UTC")


def test_xlsx_holds_exact_decimal_text_and_the_same_total(exports, demo_company):
    from openpyxl import load_workbook

    import re

    with zipfile.ZipFile(exports["chargeback.xlsx"]) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    written = set()
    for text in re.findall(r"<v>([^<]*)</v>", sheet):
        try:
            written.add(Decimal(text))        # the cell's text as a decimal: exact, whatever its notation
        except ArithmeticError:
            pass
    con, rel = read(exports["chargeback.parquet"])
    amounts = {v for (v,) in con.sql('select distinct "BilledCost" from rel').fetchall()}
    assert amounts <= written        # every amount is in the sheet as its exact decimal text, no float rounding
    rows = load_workbook(exports["chargeback.xlsx"], read_only=True)["data"].iter_rows(values_only=True)
    header = next(rows)
    billed = header.index("BilledCost")
    # openpyxl reads numbers as floats; summing their exact decimal text needs the XML, so compare to 1e-6 here
    total = sum(Decimal(str(r[billed])) for r in rows)
    assert abs(total - bill(demo_company.warehouse)["USD"]) < Decimal("0.000001")


def test_chargeback_agrees_with_allocated_cost_per_team(exports, demo_company):
    con, rel = read(exports["chargeback.parquet"])
    got = dict(((d, t), v) for d, t, v in con.sql(
        'select "x_Department", "x_Team", sum("BilledCost") from rel group by 1, 2').fetchall())
    wh = duckdb.connect(demo_company.warehouse, read_only=True)
    # allocated_cost is by charge day; the September bill's lines are charged in September
    expected = dict(((d, t), v) for d, t, v in wh.execute(
        "select department, team, sum(billed_cost) from marts.allocated_cost where cost_kind <> 'estimated_unbilled' "
        "and strftime(day, '%Y-%m') = ? group by 1, 2 having sum(billed_cost) <> 0", [MONTH]).fetchall())
    wh.close()
    got = {k: v for k, v in got.items() if v != 0}
    assert got == expected


def test_chargeback_has_allocation_columns_and_reserved_buckets(exports):
    con, rel = read(exports["chargeback.parquet"])
    columns = set(rel.columns)
    assert {"x_Department", "x_Team", "x_Agent", "x_Model", "x_AllocationMethod", "x_CostKind"} <= columns
    kinds = {r[0] for r in con.sql('select distinct "x_CostKind" from rel').fetchall()}
    assert {"tokens", "capacity", "idle", "shared_overhead"} <= kinds and "estimated_unbilled" not in kinds
    methods = {r[0] for r in con.sql('select distinct "x_AllocationMethod" from rel').fetchall()}
    assert "estimate-weighted" in methods and "shared-proportional" in methods


def test_focus_export_is_the_bill_line_for_line(exports, demo_company):
    con, rel = read(exports["focus.parquet"])
    wh = duckdb.connect(demo_company.warehouse, read_only=True)
    lines = wh.execute("select count(*) from raw.cost_lines where billing_period = date '2026-09-01'").fetchone()[0]
    wh.close()
    assert con.sql("select count(*) from rel").fetchone()[0] == lines
    assert {r[0] for r in con.sql('select distinct "x_SourceFormat" from rel').fetchall()} == {"cur2"}
    # Tax lines carry no SKU or quantity in FOCUS form
    assert con.sql("select count(*) from rel where \"ChargeCategory\" = 'Tax' and (\"SkuId\" is not null or "
                   "\"PricingQuantity\" is not null)").fetchone()[0] == 0


def test_scoped_export_holds_only_that_team(demo_company, tmp_path, capsys):
    out = tmp_path / "team.csv"
    code, stdout, _ = run(capsys, "--warehouse", demo_company.warehouse, "export", "chargeback", "--month", MONTH,
                          "--out", str(out), "--scope", "team=devtools")
    assert code == 0 and "team=devtools" in stdout
    con, rel = read(out)
    assert {r[0] for r in con.sql('select distinct "x_Team" from rel').fetchall()} == {"devtools"}


@pytest.mark.parametrize("args, message", [
    (("chargeback", "--month", "2026-9", "--out", "x.csv"), "write it as YYYY-MM"),
    (("chargeback", "--month", "2026-13", "--out", "x.csv"), "write it as YYYY-MM"),
    (("chargeback", "--month", "2027-01", "--out", "x.csv"), "no chargeback for 2027-01"),
    (("focus", "--month", "2027-01", "--out", "x.csv"), "no billed cost lines for 2027-01"),
    (("chargeback", "--month", MONTH, "--out", "x.json"), "name the file .csv, .parquet or .xlsx"),
    (("focus", "--month", MONTH, "--out", "x.txt"), "name the file .csv, .parquet or .xlsx"),
    (("focus", "--month", MONTH, "--out", "x"), "name the file .csv, .parquet or .xlsx"),
    (("chargeback", "--month", MONTH, "--out", "nowhere/x.csv"), "folder nowhere does not exist"),
    (("focus", "--month", MONTH, "--out", "nowhere/x.xlsx"), "folder nowhere does not exist"),
    (("chargeback", "--month", MONTH, "--out", "x.csv", "--scope", "agent=x"), "--scope department=NAME"),
    (("chargeback", "--month", MONTH, "--out", "x.csv", "--scope", "team=nobody"),
     "no chargeback rows for team=nobody"),
    (("focus", "--month", MONTH, "--out", "x.csv", "--scope", "team=x"), "applies to `export chargeback` only"),
])
def test_bad_input_is_one_line_naming_the_fix(demo_company, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "--warehouse", demo_company.warehouse, "export", *args)
    assert code in (1, 2)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert "Traceback" not in err and not list(tmp_path.iterdir())    # nothing half-written


def test_out_naming_a_folder_is_one_line_before_any_work(demo_company, tmp_path, capsys):
    folder = tmp_path / "september.csv"
    folder.mkdir()
    code, _, err = run(capsys, "--warehouse", demo_company.warehouse, "export", "chargeback", "--month", MONTH,
                       "--out", str(folder))
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "is a folder: name the file to write" in lines[0], err
    assert list(tmp_path.iterdir()) == [folder] and not list(folder.iterdir())


def test_export_before_build_says_to_build(tmp_path, capsys):
    warehouse = str(tmp_path / "empty.duckdb")
    from costwarden import db
    db.connect(warehouse).close()                                             # an empty, unbuilt warehouse
    code, _, err = run(capsys, "--warehouse", warehouse, "export", "chargeback", "--month", MONTH,
                       "--out", str(tmp_path / "x.csv"))
    assert code == 1 and "run `costwarden build` first" in err
