"""Root cause of a cost change in LLM terms: an exact split of the change between two periods into volume, model-mix,
token-mix, cache-hit and price effects, and the children (model, version, agent, team, token type) ranked by $.

Cost of one (model, token type) cell = requests x model share x side tokens per request x type share of the side
x price per token. The change of each cell is split among the five factors by their Shapley values (the average of
the factor's change over every order of substitution), computed in exact fractions, so the effects sum exactly to
the change; docs/anomaly-detection.md gives the formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import combinations
from math import factorial, floor

import pandas as pd

from costwarden.errors import BadInputError

EFFECTS = ("volume", "model_mix", "token_mix", "cache_hit", "price")
CHILD_DIMENSIONS = ("model", "model_version", "agent", "team", "token_type")
REQUIRED = ("model", "token_type", "requests", "tokens", "cost")
# Token types that share the input side: their split is the cache-hit effect, their total the token-mix effect.
INPUT_SIDE = frozenset({"input", "cache_read", "cache_write"})
MONEY_STEP = Fraction(1, 10**10)          # DECIMAL(38, 10)


@dataclass
class Decomposition:
    cost_before: Decimal
    cost_after: Decimal
    change: Decimal
    effects: dict[str, Decimal]           # sums exactly to `change`
    children: pd.DataFrame                # dimension, value, cost_before, cost_after, change, share_of_change, rank
    # Each effect split by model (the cells are per model, so this is exact): model, effect, value (float $).
    effects_by_model: pd.DataFrame | None = None


def decompose(before: pd.DataFrame, after: pd.DataFrame) -> Decomposition:
    """Decompose the cost change from `before` to `after` (cost fact frames at the same grain)."""
    cells = {p: _cells(frame, name) for p, (frame, name) in enumerate(((before, "before"), (after, "after")))}
    exact = {effect: Fraction(0) for effect in EFFECTS}
    by_model: dict[tuple[str, str], Fraction] = {}
    for key in sorted(set(cells[0]) | set(cells[1]), key=str):
        old, new = cells[0].get(key), cells[1].get(key)
        for effect, value in _cell_effects(old, new).items():
            exact[effect] += value
            by_model[(key[0], effect)] = by_model.get((key[0], effect), Fraction(0)) + value
    cost_before = _money(before["cost"]).sum() if len(before) else Decimal(0)
    cost_after = _money(after["cost"]).sum() if len(after) else Decimal(0)
    change = _quantize(Fraction(cost_after) - Fraction(cost_before))
    per_model = pd.DataFrame([{"model": m, "effect": e, "value": float(v)} for (m, e), v in by_model.items()],
                             columns=["model", "effect", "value"])
    return Decomposition(_quantize(Fraction(cost_before)), _quantize(Fraction(cost_after)), change,
                         _rounded_to_total(exact, change), _children(before, after, change), per_model)


@dataclass
class _Cell:
    requests_total: Fraction
    model_requests: Fraction
    side_tokens: Fraction
    tokens: Fraction
    cost: Fraction


def _cells(frame: pd.DataFrame, name: str) -> dict[tuple, _Cell]:
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise BadInputError(f"the {name} cost frame lacks column(s) {', '.join(missing)}; it needs "
                            f"{', '.join(REQUIRED)} (and optionally model_version, agent, team).")
    if frame.empty:
        return {}
    data = frame.copy()
    model_key = [c for c in ("model", "model_version") if c in data.columns]
    request_group = model_key + [c for c in ("agent", "team") if c in data.columns]
    for c in request_group + ["token_type"]:
        data[c] = data[c].fillna("").astype(str)
    data["cost"] = _money(data["cost"])
    data["tokens"] = [Fraction(str(v)) if pd.notna(v) else Fraction(0) for v in data["tokens"]]
    data["requests"] = [Fraction(str(v)) if pd.notna(v) else Fraction(0) for v in data["requests"]]
    data["side"] = data["token_type"].where(~data["token_type"].isin(INPUT_SIDE), "input")
    # `requests` is the request group's count repeated on each of its token-type rows: count it once per group.
    group_requests = data.groupby(request_group, sort=False)["requests"].max()
    model_requests = group_requests.groupby(level=list(range(len(model_key))), sort=False).sum()
    total_requests = sum(group_requests, Fraction(0))
    side_tokens = data.groupby(model_key + ["side"], sort=False)["tokens"].sum()
    tokens = data.groupby(model_key + ["token_type"], sort=False)["tokens"].sum()
    cost = data.groupby(model_key + ["token_type"], sort=False)["cost"].sum()
    sides = data.groupby(model_key + ["token_type"], sort=False)["side"].first()
    cells = {}
    for key in tokens.index:
        model = key[:-1] if len(model_key) > 1 else key[0]
        cells[key] = _Cell(total_requests, model_requests.get(model, Fraction(0)),
                           side_tokens[(*key[:-1], sides[key])], tokens[key], Fraction(cost[key]))
    return cells


def _factors(cell: _Cell | None) -> list[Fraction | None]:
    """The five factors of a cell in EFFECTS order; None where a denominator is zero (undefined)."""
    if cell is None:
        return [None] * 5
    ratio = lambda a, b: a / b if b else None  # noqa: E731
    return [cell.requests_total, ratio(cell.model_requests, cell.requests_total),
            ratio(cell.side_tokens, cell.model_requests), ratio(cell.tokens, cell.side_tokens),
            ratio(cell.cost, cell.tokens)]


def _cell_effects(old: _Cell | None, new: _Cell | None) -> dict[str, Fraction]:
    before, after = _factors(old), _factors(new)
    # An undefined factor (no requests, no tokens) takes the other period's value, or 1 when both lack it: it then
    # contributes nothing itself and the change goes to the factor that went to or from zero.
    for i in range(5):
        fill = after[i] if before[i] is None else before[i]
        before[i] = fill if before[i] is None else before[i]
        after[i] = fill if after[i] is None else after[i]
        if before[i] is None:
            before[i] = after[i] = Fraction(1)
    if old is None:
        before[1] = Fraction(0)
    if new is None:
        after[1] = Fraction(0)
    values = {}
    for size in range(6):
        for subset in combinations(range(5), size):
            product = Fraction(1)
            for i in range(5):
                product *= after[i] if i in subset else before[i]
            values[frozenset(subset)] = product
    effects = {}
    for i, effect in enumerate(EFFECTS):
        total = Fraction(0)
        others = [j for j in range(5) if j != i]
        for size in range(5):
            weight = Fraction(factorial(size) * factorial(4 - size), factorial(5))
            for subset in combinations(others, size):
                total += weight * (values[frozenset(subset) | {i}] - values[frozenset(subset)])
        effects[effect] = total
    # Cost that the factors cannot reproduce (cost without requests or tokens: fees, provisioned capacity) is price.
    actual = (new.cost if new else Fraction(0)) - (old.cost if old else Fraction(0))
    effects["price"] += actual - (values[frozenset(range(5))] - values[frozenset()])
    return effects


def _money(values: pd.Series) -> pd.Series:
    return values.map(lambda v: Decimal(0) if pd.isna(v) else v if isinstance(v, Decimal) else Decimal(str(v)))


def _quantize(value: Fraction) -> Decimal:
    units = floor(value / MONEY_STEP + Fraction(1, 2))
    return Decimal(units).scaleb(-10)


def _rounded_to_total(exact: dict[str, Fraction], total: Decimal) -> dict[str, Decimal]:
    """Round each effect to 1e-10 so the rounded effects add up to `total` exactly (largest remainder)."""
    units = {k: v / MONEY_STEP for k, v in exact.items()}
    floors = {k: floor(v) for k, v in units.items()}
    short = int(total.scaleb(10)) - sum(floors.values())
    for k in sorted(units, key=lambda k: units[k] - floors[k], reverse=True)[:max(short, 0)]:
        floors[k] += 1
    return {k: Decimal(v).scaleb(-10) for k, v in floors.items()}


def _children(before: pd.DataFrame, after: pd.DataFrame, change: Decimal) -> pd.DataFrame:
    rows = []
    for dimension in CHILD_DIMENSIONS:
        if dimension not in before.columns and dimension not in after.columns:
            continue
        totals: dict[str, list[Decimal]] = {}
        for period, frame in enumerate((before, after)):
            if dimension not in frame.columns or frame.empty:
                continue
            keys = frame[dimension].fillna("").astype(str)
            for value, cost in _money(frame["cost"]).groupby(keys, sort=False).sum().items():
                totals.setdefault(value, [Decimal(0), Decimal(0)])[period] += cost
        ranked = sorted(totals.items(), key=lambda item: (-abs(item[1][1] - item[1][0]), item[0]))
        for rank, (value, (old, new)) in enumerate(ranked, start=1):
            rows.append({"dimension": dimension, "value": value, "cost_before": old, "cost_after": new,
                         "change": new - old, "share_of_change": float((new - old) / change) if change else None,
                         "rank": rank})
    return pd.DataFrame(rows, columns=["dimension", "value", "cost_before", "cost_after", "change",
                                       "share_of_change", "rank"])
