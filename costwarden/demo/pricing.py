"""Prices the demo bills with: exactly what the warehouse's price book will say, day by day.

The shipped price book plus the demo config's [[prices]] is loaded into an in-memory DuckDB with the product's
own `reference.refresh_price_book`, and each (model, region, token type, day) is resolved with the same rule as
`reference._price_as_of` (a region's own price beats '*', the latest effective_from wins). Models the shipped book
lacks are filled from company.py list prices as [[prices]] entries, so the demo never depends on the book's content.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb

from costwarden import reference
from costwarden.config import PriceOverride, Settings
from costwarden.demo.company import ACCOUNTS, MODELS
from costwarden.demo.incidents import Window, price_overrides
from costwarden.warehouse import apply_schema

FILL_IN_FROM = date(2000, 1, 1)


def _book(settings: Settings) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    apply_schema(con)
    reference.refresh_price_book(con, settings)
    return con


def demo_price_entries(w: Window) -> list[dict]:
    """[[prices]] entries for the demo config: list prices the shipped book lacks, then the price-change incident."""
    con = _book(Settings())
    try:
        known = set(con.execute("select distinct provider, model, token_type from ref.price_book").fetchall())
    finally:
        con.close()
    entries = []
    for model in MODELS.values():
        for token_type, price in model.prices.items():
            if (model.provider, model.canonical, token_type) not in known:
                entries.append({"provider": model.provider, "model": model.canonical, "region": "*",
                                "token_type": token_type, "usd_per_million_tokens": price,
                                "effective_from": FILL_IN_FROM})
    return entries + price_overrides(w)


class DemoPrices:
    """Daily prices per (provider, model, region, token_type) in table `demo_prices` of an in-memory DuckDB."""

    def __init__(self, settings: Settings, w: Window):
        self.con = _book(settings)
        # Bedrock bills per region; gateway providers are priced region-less ('*').
        keys = [(m.provider, m.canonical, region, t) for m in MODELS.values()
                for region in ({a.region for a in ACCOUNTS} if m.provider == "aws.bedrock" else {"*"})
                for t in m.prices]
        keys.sort()
        self.con.execute("create temp table demo_keys (provider varchar, model varchar, region varchar, "
                         "token_type varchar)")
        self.con.executemany("insert into demo_keys values (?, ?, ?, ?)", keys)
        self.con.execute("""
            create temp table demo_prices as
            select k.provider, k.model, k.region, k.token_type, d.day, p.usd_per_million
            from demo_keys k
            cross join (select cast(range as date) as day from range(cast($start as timestamp),
                        cast($stop as timestamp), interval 1 day)) d
            join ref.price_book p on p.provider = k.provider and p.model = k.model
                and p.region in (k.region, '*') and p.token_type = k.token_type
                and p.effective_from <= d.day and (p.effective_to is null or p.effective_to > d.day)
            qualify row_number() over (partition by k.provider, k.model, k.region, k.token_type, d.day
                                       order by p.region = '*', p.effective_from desc) = 1""",
                         {"start": w.start, "stop": w.stop})

    def price(self, provider: str, model: str, region: str, token_type: str, day: date) -> Decimal | None:
        row = self.con.execute("select usd_per_million from demo_prices where provider = ? and model = ? and "
                               "region = ? and token_type = ? and day = ?",
                               [provider, model, region, token_type, day]).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.con.close()


def overrides_as_settings(entries: list[dict]) -> list[PriceOverride]:
    return [PriceOverride(**e) for e in entries]
