"""`costwarden close`: a closed month's chargeback never changes; a restatement of it is booked as adjustments in
the next open month; over all months the chargeback still adds up to the bill; reopening is explicit and logged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.cur_factory import billed_total, cur_lines, write_cur2

MAY, JUNE, JULY = date(2024, 5, 1), date(2024, 6, 1), date(2024, 7, 1)

CONFIG = """
[[org_rules]]
match = "tag"
key = "user_team"
pattern = "search"
team = "search"
department = "product"

[[org_rules]]
match = "tag"
key = "user_team"
pattern = "ml-platform"
team = "ml-platform"
department = "platform"

[[shared_costs]]
name = "tax"
match = "charge_category"
pattern = "Tax"
method = "proportional"
"""


@pytest.fixture
def company(tmp_path, cli):
    config = tmp_path / "costwarden.toml"
    config.write_text(CONFIG)
    src = tmp_path / "src"

    def run(*args):
        return cli("--config", str(config), *args)

    def deliver(period: date, lines: list[dict]) -> None:
        write_cur2(src, lines, period, files=1)
        code, out, err = run("ingest", str(src), "--format", "cur2", "--no-progress")
        assert code == 0, out + err

    def build():
        code, out, err = run("build")
        assert code == 0, out + err

    run.deliver, run.build, run.folder = deliver, build, tmp_path
    return run


def export(company, month: date, name: str) -> Path:
    out = company.folder / name
    code, stdout, err = company("export", "chargeback", "--month", f"{month:%Y-%m}", "--out", str(out))
    assert code == 0, stdout + err
    return out


def sums(path: Path, by: str = "1") -> dict:
    con = duckdb.connect()
    rel = con.sql(f"select * from read_parquet('{path}')")
    return dict(con.sql(f'select {by}, sum("BilledCost") from rel group by all').fetchall())


def total(path: Path) -> Decimal:
    return sums(path).get(1, Decimal(0))


@pytest.mark.slow
def test_restating_a_closed_month_books_an_adjustment_in_the_next_open_month(company, warehouse):
    may_v1, june = cur_lines(MAY, seed=1), cur_lines(JUNE, seed=2)
    company.deliver(MAY, may_v1)
    company.deliver(JUNE, june)
    company.build()

    code, out, err = company("close", "2024-05", "--by", "alice", "--note", "invoice 202405-1")
    assert code == 0 and "closed 2024-05" in out, err
    code, out, _ = company("close", "--list")
    assert "2024-05" in out and "alice" in out and "invoice 202405-1" in out
    may_closed = export(company, MAY, "may-closed.parquet")
    assert total(may_closed) == billed_total(may_v1)

    # AWS restates May: re-costed and grown (a newer delivery replaces the period)
    may_v2 = cur_lines(MAY, seed=11, days=3)
    assert billed_total(may_v2) != billed_total(may_v1)
    company.deliver(MAY, may_v2)
    company.build()

    may_after = export(company, MAY, "may-after.parquet")
    assert may_after.read_bytes() == may_closed.read_bytes()          # what finance booked is untouched
    june_export = export(company, JUNE, "june.parquet")
    by_kind = sums(june_export, '"x_CostKind" = \'adjustment\'')
    assert by_kind[True] == billed_total(may_v2) - billed_total(may_v1)
    assert by_kind[False] == billed_total(june)
    # per team, the adjustment is what the restated May allocates to it minus what was frozen
    con = duckdb.connect(warehouse, read_only=True)
    live_may = dict(con.execute(
        """select "x_Team", sum("BilledCost") from marts.chargeback_live
           where cast("BillingPeriodStart" as date) = date '2024-05-01' group by 1""").fetchall())
    adjustment_rows = con.execute(
        """select "ChargeCategory", "ChargeClass", "x_AdjustedBillingPeriod", count(*) from marts.chargeback
           where "x_CostKind" = 'adjustment' group by all""").fetchall()
    con.close()
    frozen = sums(may_closed, '"x_Team"')
    adjusted = sums(june_export, 'case when "x_CostKind" = \'adjustment\' then "x_Team" end')
    for team in set(live_may) | set(frozen):
        assert adjusted.get(team, Decimal(0)) == live_may.get(team, Decimal(0)) - frozen.get(team, Decimal(0))
    assert {(c, k, p) for c, k, p, _ in adjustment_rows} == {("Adjustment", "Correction", MAY)}
    # over all months the chargeback adds up to the current bill
    assert total(may_after) + total(june_export) == billed_total(may_v2) + billed_total(june)

    # June is closed with the adjustment in it; May is restated again: only what is still missing goes to July
    code, out, err = company("close", "2024-06", "--by", "bob")
    assert code == 0, err
    may_v3 = cur_lines(MAY, seed=12, days=2)
    company.deliver(MAY, may_v3)
    company.build()
    june_closed = export(company, JUNE, "june-closed.parquet")
    assert sums(june_closed) == sums(june_export)
    july = export(company, JULY, "july.parquet")
    assert total(july) == billed_total(may_v3) - billed_total(may_v2)
    assert total(may_after) + total(june_closed) + total(july) == billed_total(may_v3) + billed_total(june)


@pytest.mark.slow
def test_reopen_is_an_explicit_logged_admin_action(company, warehouse):
    company.deliver(MAY, cur_lines(MAY, seed=1))
    company.deliver(JUNE, cur_lines(JUNE, seed=2))
    company.build()
    assert company("close", "2024-05", "--by", "alice")[0] == 0
    company.deliver(MAY, cur_lines(MAY, seed=11, days=3))
    company.build()
    assert company("close", "2024-06", "--by", "alice")[0] == 0      # June now holds May's adjustment

    code, _, err = company("close", "2024-05", "--reopen")
    assert code == 2 and "--reason" in err
    code, _, err = company("close", "2024-05", "--reopen", "--reason", "credit memo")
    assert code == 1 and "reopen 2024-06 first" in err
    code, _, err = company("close", "2024-05")
    assert code == 1 and "already closed" in err

    code, out, err = company("close", "2024-06", "--reopen", "--reason", "wrong FX rate", "--by", "carol")
    assert code == 0 and "reopened 2024-06" in out, err
    code, out, _ = company("close", "--list")
    assert "2024-05" in out and "2024-06" not in out
    con = duckdb.connect(warehouse, read_only=True)
    log = con.execute("select action, strftime(billing_period, '%Y-%m'), actor, reason from ledger.close_log "
                      "order by logged_at").fetchall()
    con.close()
    assert log == [("close", "2024-05", "alice", None), ("close", "2024-06", "alice", None),
                   ("reopen", "2024-06", "carol", "wrong FX rate")]
    # June is live again, May's adjustment back in it
    june = export(company, JUNE, "june.parquet")
    assert sums(june, '"x_CostKind"')["adjustment"] != 0


def test_close_refuses_what_it_cannot_freeze(company):
    company.deliver(MAY, cur_lines(MAY, seed=1))
    company.build()
    for args, message in [(("close", "2024-5"), "write it as YYYY-MM"),
                          (("close", "2024-09"), "no chargeback for 2024-09 to close"),
                          (("close",), "name the month to close"),
                          (("close", "2024-07", "--reopen", "--reason", "x"), "2024-07 is not closed")]:
        code, _, err = company(*args)
        assert code in (1, 2) and message in err and len(err.strip().splitlines()) == 1, err
    # a newer delivery ingested but not built yet: the allocation is older than the bill
    company.deliver(MAY, cur_lines(MAY, seed=11, days=3))
    code, _, err = company("close", "2024-05")
    assert code == 1 and "run `costwarden build` first" in err
    code, _, err = company("export", "chargeback", "--month", "2024-05", "--out", str(company.folder / "x.csv"))
    assert code == 1 and "run `costwarden build` first" in err
