"""Reference data in the warehouse: the effective-dated price book and the org-mapping rules.

Both are rebuilt from their sources of truth (the price book shipped in costwarden/data/price_book.csv plus
[[prices]] overrides, and [[org_rules]] from the config) at the start of every ingest and build, inside the same
transaction, so the warehouse never holds a half-updated book.
"""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path

import duckdb

from costwarden.config import Settings
from ingest.identity import hash_identity, hash_salt

PRICE_BOOK_FILE = "price_book.csv"


def shipped_price_book() -> Path:
    return Path(str(resources.files("costwarden") / "data" / PRICE_BOOK_FILE))


def refresh(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    refresh_price_book(con, settings)
    refresh_org_rules(con, settings)


def refresh_price_book(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    con.execute("delete from ref.price_book")
    path = shipped_price_book()
    if path.exists():
        con.execute(
            "insert into ref.price_book select provider, model, region, token_type, "
            "cast(usd_per_million as decimal(38, 10)), cast(effective_from as date), "
            "cast(nullif(effective_to, '') as date), source "
            "from read_csv(?, header = true, all_varchar = true)", [str(path)])
    for o in settings.prices:
        if o.usd_per_million_tokens is not None:
            price = o.usd_per_million_tokens
        else:
            base = _price_as_of(con, o.provider, o.model, o.region, o.token_type, o.effective_from)
            if base is None:
                from costwarden.errors import ConfigError
                raise ConfigError(f"[[prices]] discount for {o.provider}/{o.model} {o.token_type}: the price book "
                                  "has no base price to discount. Give usd_per_million_tokens instead.")
            price = base * (Decimal(100) - (o.discount_pct or Decimal(0))) / Decimal(100)
        # An override ends the shipped price's validity from its effective date, for the same key.
        con.execute("update ref.price_book set effective_to = ? where provider = ? and model = ? and region = ? "
                    "and token_type = ? and effective_from < ? and (effective_to is null or effective_to > ?)",
                    [o.effective_from, o.provider, o.model, o.region, o.token_type, o.effective_from,
                     o.effective_from])
        con.execute("delete from ref.price_book where provider = ? and model = ? and region = ? and token_type = ? "
                    "and effective_from >= ?", [o.provider, o.model, o.region, o.token_type, o.effective_from])
        con.execute("insert into ref.price_book values (?, ?, ?, ?, ?, ?, null, 'config [[prices]]')",
                    [o.provider, o.model, o.region, o.token_type, price, o.effective_from])


def _price_as_of(con, provider, model, region, token_type, day) -> Decimal | None:
    row = con.execute(
        "select usd_per_million from ref.price_book where provider = ? and model = ? and region in (?, '*') "
        "and token_type = ? and effective_from <= ? and (effective_to is null or effective_to > ?) "
        "order by region = '*', effective_from desc limit 1",
        [provider, model, region, token_type, day, day]).fetchone()
    return row[0] if row else None


def glob_to_like(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def refresh_org_rules(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    con.execute("delete from ref.org_rules")
    salt = hash_salt(settings.hash_salt_env)
    rows = []
    for order, rule in enumerate(settings.org_rules):
        hashed = hash_identity(rule.pattern, salt) if rule.match in ("principal", "api_key") else None
        rows.append((rule.priority, order, rule.match, rule.key or None, rule.pattern, glob_to_like(rule.pattern),
                     hashed, rule.team or None, rule.department or None, rule.environment or None))
    if rows:
        con.executemany("insert into ref.org_rules values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
