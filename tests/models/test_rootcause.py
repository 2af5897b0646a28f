"""Root-cause decomposition: exact sums, each effect isolated by a change of only its factor, children ranked."""

from __future__ import annotations

import random
from decimal import Decimal

import pandas as pd
import pytest

from costwarden.errors import BadInputError
from models.rootcause import EFFECTS, decompose

PRICE = {("sonnet", "input"): Decimal("0.000003"), ("sonnet", "output"): Decimal("0.000015"),
         ("sonnet", "cache_read"): Decimal("0.0000003"), ("haiku", "input"): Decimal("0.00000025"),
         ("haiku", "output"): Decimal("0.00000125"), ("haiku", "cache_read"): Decimal("0.000000025")}


def facts(rows: list[tuple], price_factor: Decimal = Decimal(1)) -> pd.DataFrame:
    """rows of (model, agent, team, requests, input, cache_read, output) -> one row per token type, costed."""
    out = []
    for model, agent, team, requests, fresh, cached, output in rows:
        for token_type, tokens in (("input", fresh), ("cache_read", cached), ("output", output)):
            out.append({"model": model, "model_version": "v1", "agent": agent, "team": team,
                        "token_type": token_type, "requests": requests, "tokens": tokens,
                        "cost": tokens * PRICE[(model, token_type)] * price_factor})
    return pd.DataFrame(out)


BASE = [("sonnet", "support", "cx", 1000, 800_000, 200_000, 300_000),
        ("haiku", "router", "platform", 5000, 1_000_000, 0, 100_000)]


def test_effects_sum_exactly_to_the_total_change_on_random_periods():
    rng = random.Random(42)
    for _ in range(25):
        def period():
            rows = []
            for model in ("sonnet", "haiku"):
                for agent in ("a", "b"):
                    if rng.random() < 0.8:
                        rows.append((model, agent, "t" + agent, rng.randint(0, 900), rng.randint(0, 10**6),
                                     rng.randint(0, 10**5), rng.randint(0, 10**5)))
            return facts(rows, Decimal(rng.choice(["1", "1.1", "0.8"])))
        before, after = period(), period()
        result = decompose(before, after)
        assert sum(result.effects.values()) == result.change
        assert result.change == after["cost"].sum() - before["cost"].sum()
        assert all(isinstance(v, Decimal) for v in result.effects.values())


def test_more_of_the_same_traffic_is_all_volume():
    doubled = [(m, a, t, 2 * r, 2 * i, 2 * c, 2 * o) for m, a, t, r, i, c, o in BASE]
    result = decompose(facts(BASE), facts(doubled))
    assert result.effects["volume"] == result.change > 0
    assert all(result.effects[e] == 0 for e in EFFECTS if e != "volume")


def test_a_price_change_is_all_price():
    result = decompose(facts(BASE), facts(BASE, Decimal("1.25")))
    assert result.effects["price"] == result.change > 0
    assert all(result.effects[e] == 0 for e in EFFECTS if e != "price")


def test_fewer_cache_hits_with_the_same_prompt_size_is_the_cache_hit_effect():
    fewer_hits = [("sonnet", "support", "cx", 1000, 950_000, 50_000, 300_000), BASE[1]]
    result = decompose(facts(BASE), facts(fewer_hits))
    assert result.effects["cache_hit"] == result.change > 0
    assert result.effects["token_mix"] == result.effects["volume"] == result.effects["price"] == 0


def test_longer_prompts_are_token_mix_and_moving_requests_to_a_dearer_model_is_model_mix():
    bloated = [("sonnet", "support", "cx", 1000, 1_600_000, 400_000, 300_000), BASE[1]]
    result = decompose(facts(BASE), facts(bloated))
    assert result.effects["token_mix"] == result.change > 0
    moved = [("sonnet", "support", "cx", 2000, 1_600_000, 400_000, 600_000),
             ("haiku", "router", "platform", 4000, 800_000, 0, 80_000)]
    result = decompose(facts(BASE), facts(moved))
    assert result.effects["model_mix"] > 0 and result.effects["volume"] == 0
    assert sum(result.effects.values()) == result.change


def test_a_new_model_and_a_vanished_one_still_sum_exactly():
    after = facts([("sonnet", "support", "cx", 1000, 800_000, 200_000, 300_000)])
    extra = facts([("haiku", "router", "platform", 10, 1000, 0, 100)])
    extra["model"] = "opus"
    result = decompose(facts(BASE), pd.concat([after, extra], ignore_index=True))
    assert sum(result.effects.values()) == result.change


def test_children_are_ranked_by_dollar_contribution_per_dimension():
    grown = [("sonnet", "support", "cx", 3000, 2_400_000, 600_000, 900_000), BASE[1]]
    result = decompose(facts(BASE), facts(grown))
    agents = result.children[result.children["dimension"] == "agent"]
    assert agents.iloc[0]["value"] == "support" and agents.iloc[0]["rank"] == 1
    assert agents["change"].sum() == result.change
    assert set(result.children["dimension"]) == {"model", "model_version", "agent", "team", "token_type"}


def test_a_frame_without_the_needed_columns_is_a_clear_error():
    with pytest.raises(BadInputError, match="lacks column"):
        decompose(facts(BASE).drop(columns=["requests"]), facts(BASE))
