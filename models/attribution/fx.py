"""Exchange rates for reporting: [[fx_rates]] in the config, loaded into ref.fx_rates on every build.

Billing currencies are never converted in place (AWS China bills in CNY and stays CNY in marts.allocated_cost);
marts.allocated_cost_reporting adds the amount in `reporting_currency` at the rate in force on the row's day. A rate
is used only in the direction it is written (from -> to): inverting 7.2 CNY per USD into 0.1388... USD per CNY
would be a rounding decision finance has not made, so the config states both directions when both are needed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, field_validator

from costwarden.errors import ConfigError

# ref.fx_rates.rate is decimal(38, 10): a rate with more decimals would be silently rounded, so it is refused.
RATE_DECIMALS = 10


class FxRate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # ISO 4217 code of the billing currency converted from, e.g. "CNY".
    from_currency: str
    # ISO 4217 code converted into (normally the reporting currency), e.g. "USD".
    to_currency: str
    # Units of to_currency per one unit of from_currency, as an exact decimal (write it as a string or a TOML
    # number, at most 10 decimals), e.g. "0.1381" for CNY -> USD.
    rate: Decimal = Field(gt=0)
    # First day the rate applies (inclusive); it applies until the next rate of the same pair.
    effective_from: date

    @field_validator("from_currency", "to_currency")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError("must be a three-letter ISO 4217 code such as USD or CNY")
        return value.upper()

    @field_validator("rate")
    @classmethod
    def _exact_enough(cls, value: Decimal) -> Decimal:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > RATE_DECIMALS:
            raise ValueError(f"has more than {RATE_DECIMALS} decimals; round it the way finance books it")
        return value


def refresh_fx_rates(con: duckdb.DuckDBPyConnection, rates: list[FxRate], reporting_currency: str = "USD") -> None:
    """Replace ref.fx_rates and ref.reporting_currency from the config (inside the caller's transaction)."""
    seen: dict[tuple[str, str, date], Decimal] = {}
    for r in rates:
        key = (r.from_currency, r.to_currency, r.effective_from)
        if key in seen and seen[key] != r.rate:
            raise ConfigError(f"[[fx_rates]] {r.from_currency} -> {r.to_currency} from {r.effective_from} is given "
                              f"twice ({seen[key]} and {r.rate}); keep one.")
        if r.from_currency == r.to_currency and r.rate != 1:
            raise ConfigError(f"[[fx_rates]] {r.from_currency} -> {r.to_currency} must be 1 (same currency); "
                              "remove the entry, same-currency amounts are never converted.")
        seen[key] = r.rate
    con.execute("delete from ref.reporting_currency")
    con.execute("insert into ref.reporting_currency values (?)", [reporting_currency])
    con.execute("delete from ref.fx_rates")
    if seen:
        con.executemany("insert into ref.fx_rates values (?, ?, ?, ?)",
                        [(f, t, rate, day) for (f, t, day), rate in sorted(seen.items())])


def missing_rate_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """One line for the build summary when some amounts could not be converted (None when all could)."""
    try:
        rows = con.execute("select billing_currency, reporting_currency, days, first_day, last_day "
                           "from marts.fx_missing_rates order by billing_currency").fetchall()
    except duckdb.CatalogException:
        return None
    if not rows:
        return None
    parts = [f"{b} -> {r} on {days} day(s) {first}..{last}" for b, r, days, first, last in rows]
    return ("no [[fx_rates]] rate for " + "; ".join(parts)
            + " (those rows have null *_reporting amounts; see marts.fx_missing_rates)")
