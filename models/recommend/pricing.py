"""Re-pricing observed usage under another setting: another model, batch prices, or a cached prefix.

The same token counts are priced with the price book the warehouse holds (ref.price_book), so the current and the
proposed cost of a scope differ only by the change being proposed. Money stays Decimal (USD).
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from models.recommend.evidence import Evidence

MILLION = Decimal(1_000_000)


def has_prices(ev: Evidence, provider: str, model: str, region: str = "*") -> bool:
    return (ev.price(provider, model, region, "input") is not None
            and ev.price(provider, model, region, "output") is not None)


def token_cost(ev: Evidence, provider: str, model: str, region: str, input_tokens: int, output_tokens: int,
               cache_read: int, cache_write: int, output_ratio: float = 1.0) -> Decimal | None:
    """What these tokens cost on `model` in `region`. Cache reads/writes stay cache tokens where the model has
    those prices, else they are plain input; output tokens are scaled by output_ratio (the candidate's typical
    answer length relative to the current model's)."""
    price = lambda kind: ev.price(provider, model, region, kind)  # noqa: E731
    p_in, p_out = price("input"), price("output")
    if p_in is None or p_out is None:
        return None
    p_read, p_write = price("cache_read") or p_in, price("cache_write") or p_in
    out = Decimal(int(output_tokens)) * Decimal(str(round(output_ratio, 4)))
    total = (Decimal(int(input_tokens)) * p_in + out * p_out + Decimal(int(cache_read)) * p_read
             + Decimal(int(cache_write)) * p_write)
    return total / MILLION


def daily_cost(ev: Evidence, rows: pd.DataFrame, provider: str | None = None, model: str | None = None,
               output_ratio: float = 1.0) -> dict:
    """day -> cost of `rows` (daily usage rows) priced on `model` (None: as observed). None when unpriced."""
    out: dict = {}
    for row in rows.itertuples(index=False):
        if model is None:
            cost = Decimal(row.cost)
        else:
            cost = token_cost(ev, provider, model, row.region, row.input_tokens, row.output_tokens,
                              row.cache_read_tokens, row.cache_write_tokens, output_ratio)
            if cost is None:
                return {}
        out[row.day] = out.get(row.day, Decimal(0)) + cost
    return out


def daily_difference(ev: Evidence, before: dict, after: dict) -> list[Decimal]:
    """before - after for every day of the window (days without traffic save nothing)."""
    return [before.get(d, Decimal(0)) - after.get(d, Decimal(0)) for d in ev.days]
