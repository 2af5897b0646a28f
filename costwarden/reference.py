"""Reference data in the warehouse: the effective-dated price book and the org-mapping rules.

Both are rebuilt from their sources of truth (the price book shipped in costwarden/data/price_book.csv plus
[[prices]] overrides, and [[org_rules]] from the config) at the start of every ingest and build, inside the same
transaction, so the warehouse never holds a half-updated book.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path

import duckdb

from costwarden.config import PriceOverride, Settings
from costwarden.errors import ConfigError
from ingest.identity import hash_identity, hash_salt
from models.attribution.fx import refresh_fx_rates

PRICE_BOOK_FILE = "price_book.csv"
OVERRIDE_SOURCE = "config [[prices]]"
_SCALE = Decimal("0.0000000001")   # ref.price_book.usd_per_million is decimal(38, 10)

# One price key. A region '*' override covers every region of the model (region-specific shipped rows included),
# so a contract price is not undercut by a regional list price that the lookup would otherwise prefer.
_KEY = "provider = $provider and model = $model and token_type = $token_type and ($region = '*' or region = $region)"


def shipped_price_book() -> Path:
    return Path(str(resources.files("costwarden") / "data" / PRICE_BOOK_FILE))


def refresh(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    refresh_price_book(con, settings)
    refresh_org_rules(con, settings)
    refresh_attribution(con, settings)
    refresh_fx_rates(con, settings.fx_rates, settings.reporting_currency)


def refresh_price_book(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    con.execute("delete from ref.price_book")
    path = shipped_price_book()
    if path.exists():
        con.execute(
            "insert into ref.price_book select provider, model, region, token_type, "
            "cast(usd_per_million as decimal(38, 10)), cast(effective_from as date), "
            "cast(nullif(effective_to, '') as date), source "
            "from read_csv(?, header = true, all_varchar = true)", [str(path)])
    # Oldest first, so each override ends the ones before it whatever their order in the config file.
    for override in sorted(settings.prices, key=lambda o: o.effective_from):
        if override.usd_per_million_tokens is not None:
            _apply_price(con, override)
        else:
            _apply_discount(con, override)


def _key_params(o: PriceOverride) -> dict:
    return {"provider": o.provider, "model": o.model, "token_type": o.token_type, "region": o.region,
            "day": o.effective_from}


def _apply_price(con: duckdb.DuckDBPyConnection, o: PriceOverride) -> None:
    """A fixed price from `effective_from` on: earlier prices end that day, later ones give way to it."""
    key = _key_params(o)
    con.execute(f"update ref.price_book set effective_to = $day where {_KEY} and effective_from < $day "
                f"and (effective_to is null or effective_to > $day)", key)
    con.execute(f"delete from ref.price_book where {_KEY} and effective_from >= $day", key)
    con.execute("insert into ref.price_book values (?, ?, ?, ?, ?, ?, null, ?)",
                [o.provider, o.model, o.region, o.token_type, o.usd_per_million_tokens, o.effective_from,
                 OVERRIDE_SOURCE])


def _apply_discount(con: duckdb.DuckDBPyConnection, o: PriceOverride) -> None:
    """A percentage off every price of the key in force on or after `effective_from` (periods split at that day)."""
    key = _key_params(o)
    rows = con.execute(f"select region, usd_per_million, effective_from, effective_to, source from ref.price_book "
                       f"where {_KEY} and (effective_to is null or effective_to > $day)", key).fetchall()
    if not rows:
        raise ConfigError(f"[[prices]] discount for {o.provider} / {o.model} / {o.token_type} (region {o.region}) "
                          f"from {o.effective_from}: the price book has no price for it to discount. Give "
                          "usd_per_million_tokens instead, or check the provider and model spelling against "
                          "ref.price_book.")
    factor = (Decimal(100) - (o.discount_pct or Decimal(0))) / Decimal(100)
    label = f"{OVERRIDE_SOURCE} {o.discount_pct}% off"
    con.execute(f"update ref.price_book set effective_to = $day where {_KEY} and effective_from < $day "
                f"and (effective_to is null or effective_to > $day)", key)
    con.execute(f"delete from ref.price_book where {_KEY} and effective_from >= $day", key)
    discounted = [(o.provider, o.model, region, o.token_type,
                   (price * factor).quantize(_SCALE, rounding=ROUND_HALF_EVEN), max(start, o.effective_from), end,
                   f"{label} {source}") for region, price, start, end, source in rows]
    con.executemany("insert into ref.price_book values (?, ?, ?, ?, ?, ?, ?, ?)", discounted)


def price_as_of(con: duckdb.DuckDBPyConnection, provider: str, model: str, region: str, token_type: str,
                day) -> Decimal | None:
    """The price a request of that day and region pays per million tokens (a region's own price beats '*')."""
    row = con.execute(
        "select usd_per_million from ref.price_book where provider = ? and model = ? and region in (?, '*') "
        "and token_type = ? and effective_from <= ? and (effective_to is null or effective_to > ?) "
        "order by region = '*', effective_from desc limit 1",
        [provider, model, region, token_type, day, day]).fetchone()
    return row[0] if row else None


# ---- org mapping -------------------------------------------------------------------------------------------------

def glob_to_like(pattern: str) -> str:
    """`*` and `?` become `%` and `_`; a literal `%`, `_` or backslash is escaped with a backslash (escape '\\')."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def refresh_org_rules(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    con.execute("delete from ref.org_rules")
    salt = hash_salt(settings.hash_salt_env)
    rows = []
    for order, rule in enumerate(settings.org_rules):
        if rule.match in ("principal", "api_key"):
            # Identities and keys are stored only hashed, so these rules compare the salted hash of an exact value
            # (no globs), and the warehouse keeps the hash in place of the pattern.
            hashed = hash_identity(rule.pattern, salt)
            pattern = like = hashed
        else:
            hashed, pattern, like = None, rule.pattern, glob_to_like(rule.pattern)
        rows.append((rule.priority, order, rule.match, rule.key or None, pattern, like, hashed,
                     rule.team or None, rule.department or None, rule.environment or None))
    if rows:
        con.executemany("insert into ref.org_rules values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


# ---- attribution ---------------------------------------------------------------------------------------------------

def refresh_attribution(con: duckdb.DuckDBPyConnection, settings, capacity=None, shared_costs=None) -> None:
    """Load the Bedrock usage-type tables and the [[capacity]] / [[shared_costs]] rules into ref.

    The rules come from `settings.capacity` / `settings.shared_costs` once the config has them (models/attribution/
    settings.py); until then callers (and tests) pass them in directly.
    """
    data = Path(str(resources.files("costwarden") / "data"))
    con.execute("delete from ref.bedrock_usage_types")
    con.execute("insert into ref.bedrock_usage_types select usage_model, provider, model "
                "from read_csv(?, header = true, all_varchar = true)", [str(data / "bedrock_usage_types.csv")])
    con.execute("delete from ref.aws_region_prefixes")
    con.execute("insert into ref.aws_region_prefixes select prefix, region "
                "from read_csv(?, header = true, all_varchar = true)", [str(data / "aws_region_prefixes.csv")])
    capacity = getattr(settings, "capacity", []) if capacity is None else capacity
    shared_costs = getattr(settings, "shared_costs", []) if shared_costs is None else shared_costs
    con.execute("delete from ref.capacity")
    rows = [(order, c.name, glob_to_like(c.resource_id), glob_to_like(c.serves_model) if c.serves_model else "",
             c.split_by, c.capacity_per_hour, c.idle_policy, c.owner_team or None, c.owner_department or None)
            for order, c in enumerate(capacity or [])]
    if rows:
        con.executemany("insert into ref.capacity values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("delete from ref.shared_costs")
    con.execute("delete from ref.shared_cost_shares")
    rules = [(order, r.name, r.match, glob_to_like(r.pattern), r.method) for order, r in enumerate(shared_costs or [])]
    shares = [(r.name, team, r.departments.get(team) or None, pct)
              for r in shared_costs or [] for team, pct in r.fixed_shares.items()]
    if rules:
        con.executemany("insert into ref.shared_costs values (?, ?, ?, ?, ?)", rules)
    if shares:
        con.executemany("insert into ref.shared_cost_shares values (?, ?, ?, ?)", shares)
