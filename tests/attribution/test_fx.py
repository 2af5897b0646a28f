"""[[fx_rates]]: config validation, effective-dated conversion into the reporting currency, visible gaps."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from costwarden import reference, warehouse
from costwarden.config import Settings, load_settings
from costwarden.errors import ConfigError
from models.attribution.fx import FxRate, missing_rate_note, refresh_fx_rates
from tests.attribution.builders import add_line, build, new_warehouse, rows

TENTH_NANO = Decimal("1e-10")


@pytest.fixture
def con(tmp_path):
    connection = new_warehouse(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def rate(from_currency, to_currency, value, day) -> FxRate:
    return FxRate(from_currency=from_currency, to_currency=to_currency, rate=value, effective_from=day)


def test_rates_load_from_the_config_file_exactly(tmp_path, con):
    config = tmp_path / "c.toml"
    config.write_text('reporting_currency = "usd"\n'
                      '[[fx_rates]]\nfrom_currency = "cny"\nto_currency = "USD"\nrate = "0.1381"\n'
                      'effective_from = 2026-10-01\n'
                      '[[fx_rates]]\nfrom_currency = "EUR"\nto_currency = "USD"\nrate = 1.0812345678\n'
                      'effective_from = 2026-01-01\n')
    settings = load_settings(config, environ={})
    reference.refresh(con, settings)
    assert rows(con, "select * from ref.fx_rates order by 1") == [
        ("CNY", "USD", Decimal("0.1381000000"), date(2026, 10, 1)),
        ("EUR", "USD", Decimal("1.0812345678"), date(2026, 1, 1))]
    assert rows(con, "select currency from ref.reporting_currency") == [("USD",)]


@pytest.mark.parametrize("entry, message", [
    ('from_currency = "CNY"\nto_currency = "USD"\nrate = "0.12345678901"\neffective_from = 2026-01-01',
     "more than 10 decimals"),
    ('from_currency = "CNY"\nto_currency = "USD"\nrate = "-1"\neffective_from = 2026-01-01', "greater than 0"),
    ('from_currency = "YUAN"\nto_currency = "USD"\nrate = "0.1"\neffective_from = 2026-01-01', "ISO 4217"),
])
def test_bad_rates_are_one_line_config_errors(tmp_path, entry, message):
    config = tmp_path / "c.toml"
    config.write_text("[[fx_rates]]\n" + entry + "\n")
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(config, environ={})
    assert "\n" not in str(caught.value) and "fx_rates" in str(caught.value)


def test_conflicting_duplicate_rate_is_refused(con):
    day = date(2026, 10, 1)
    with pytest.raises(ConfigError, match="given twice"):
        refresh_fx_rates(con, [rate("CNY", "USD", "0.1381", day), rate("CNY", "USD", "0.1382", day)])


def test_conversion_uses_the_rate_in_force_on_the_day(con):
    # CNY lines on three days: before any rate, on the first rate's day, after a rate change; a USD line; an EUR
    # line with no rate at all; and a rate in the other direction only, which must not be inverted.
    add_line(con, datetime(2026, 9, 30, 3), "100", currency="CNY", usage_type="Dollar", service_code="AWSSupport")
    add_line(con, datetime(2026, 10, 1, 3), "7.2000000001", effective="7", currency="CNY", usage_type="Dollar",
             service_code="AWSSupport")
    add_line(con, datetime(2026, 10, 2, 3), "-3.3333333333", currency="CNY", usage_type="Dollar",
             service_code="AWSSupport")
    add_line(con, datetime(2026, 10, 2, 3), "5.55", currency="USD", usage_type="Dollar", service_code="AWSSupport")
    add_line(con, datetime(2026, 10, 2, 3), "9", currency="EUR", usage_type="Dollar", service_code="AWSSupport")
    assert build(con) == []
    refresh_fx_rates(con, [rate("CNY", "USD", "0.1381", date(2026, 10, 1)),
                           rate("CNY", "USD", "0.1385", date(2026, 10, 2)),
                           rate("USD", "EUR", "0.92", date(2026, 1, 1))], "USD")
    warehouse.build(con)
    got = {(d, c): rest for d, c, *rest in rows(
        con, "select day, billing_currency, fx_rate, fx_rate_source, billed_cost, billed_cost_reporting, "
             "effective_cost, effective_cost_reporting from marts.allocated_cost_reporting")}

    def converted(amount: str, fx: str) -> Decimal:
        return (Decimal(amount) * Decimal(fx)).quantize(TENTH_NANO, ROUND_HALF_UP)

    assert got[(date(2026, 9, 30), "CNY")] == [None, "missing", Decimal("100"), None, Decimal("100"), None]
    assert got[(date(2026, 10, 1), "CNY")] == [Decimal("0.1381"), "config", Decimal("7.2000000001"),
                                                converted("7.2000000001", "0.1381"), Decimal("7"),
                                                converted("7", "0.1381")]
    assert got[(date(2026, 10, 1), "CNY")][3] == Decimal("0.9943200000")    # 0.99432000001381 rounded
    assert got[(date(2026, 10, 2), "CNY")][2:4] == [Decimal("-3.3333333333"), Decimal("-0.4616666667")]
    assert got[(date(2026, 10, 2), "USD")][:2] == [Decimal("1"), "identity"]
    assert got[(date(2026, 10, 2), "USD")][3] == Decimal("5.55")
    assert got[(date(2026, 10, 2), "EUR")][:2] == [None, "missing"]
    # the billed amounts are untouched: per-currency totals still equal the bill
    assert rows(con, "select billing_currency, sum(billed_cost) from marts.allocated_cost_reporting "
                     "group by 1 order by 1") == [("CNY", Decimal("103.8666666668")), ("EUR", Decimal("9")),
                                                   ("USD", Decimal("5.55"))]
    missing = rows(con, "select billing_currency, reporting_currency, days, first_day, last_day, billed_cost "
                        "from marts.fx_missing_rates order by 1")
    assert missing == [("CNY", "USD", 1, date(2026, 9, 30), date(2026, 9, 30), Decimal("100")),
                       ("EUR", "USD", 1, date(2026, 10, 2), date(2026, 10, 2), Decimal("9"))]
    note = missing_rate_note(con)
    assert note is not None and "CNY -> USD on 1 day(s) 2026-09-30..2026-09-30" in note and "EUR -> USD" in note


def test_reporting_in_another_currency_uses_that_direction(con):
    add_line(con, datetime(2026, 10, 1, 3), "10", currency="USD", usage_type="Dollar", service_code="AWSSupport")
    add_line(con, datetime(2026, 10, 1, 3), "10", currency="CNY", usage_type="Dollar", service_code="AWSSupport")
    assert build(con) == []
    refresh_fx_rates(con, [rate("USD", "CNY", "7.2", date(2026, 1, 1))], "CNY")
    warehouse.build(con)
    got = dict(rows(con, "select billing_currency, billed_cost_reporting from marts.allocated_cost_reporting"))
    assert got == {"USD": Decimal("72"), "CNY": Decimal("10")}
    assert missing_rate_note(con) is None


def test_settings_field_defaults_to_no_rates():
    assert Settings().fx_rates == []


def test_build_summary_names_the_missing_rates(tmp_path):
    from costwarden.build import build_warehouse

    path = str(tmp_path / "w.duckdb")
    setup = new_warehouse(path)
    add_line(setup, datetime(2026, 10, 1, 3), "7", currency="CNY", usage_type="Dollar", service_code="AWSSupport")
    add_line(setup, datetime(2026, 10, 2, 3), "7", currency="CNY", usage_type="Dollar", service_code="AWSSupport")
    setup.close()
    late_rate = Settings(fx_rates=[rate("CNY", "USD", "0.14", date(2026, 10, 2))])
    summary = build_warehouse(late_rate, path).summary()
    assert "note: no [[fx_rates]] rate for CNY -> USD on 1 day(s) 2026-10-01..2026-10-01" in summary
    covered = Settings(fx_rates=[rate("CNY", "USD", "0.14", date(2026, 10, 1))])
    assert "note:" not in build_warehouse(covered, path).summary()
