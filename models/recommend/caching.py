"""Prompt caching: scopes (agent x model) sending large prompts with few cache reads, priced at the cache price.

costwarden never sees prompt text, so "repeated input" is inferred: the shared prefix is taken as a low quantile
of the scope's prompt sizes (the part nearly every request carries: system prompt, tool definitions, documents),
and a request can read it when the previous request of the same agent and model came within the cache TTL (the
others write it). Saving per day = warm requests x prefix x (input - cache read price) - cold requests x prefix x
(cache write - input price).
"""

from __future__ import annotations

from decimal import Decimal

from models.recommend.evidence import Evidence
from models.recommend.pricing import MILLION
from models.recommend.record import Recommendation
from models.recommend.settings import RecommendSettings
from models.recommend.stats import monthly_saving

NONE = "__none__"
MIN_CACHEABLE = 1024        # the smallest prefix Anthropic/Bedrock and OpenAI will cache


def _change(provider: str, agent: str, prefix: int) -> str:
    if provider == "openai":
        return (f"Make {agent}'s first ~{prefix} prompt tokens byte-identical across requests (system prompt, tool "
                f"definitions, reference text first; per-request values such as timestamps and ids last): OpenAI "
                f"caches prompt prefixes of 1024+ tokens automatically.")
    return (f"In {agent}, put the stable ~{prefix}-token prefix (system prompt, tools, documents) first and mark its "
            f"end with a cache checkpoint: Bedrock Converse `{{\"cachePoint\": {{\"type\": \"default\"}}}}` after "
            f"the system block (Anthropic API: `\"cache_control\": {{\"type\": \"ephemeral\"}}`); keep per-request "
            f"values out of the prefix.")


def daily_saving(ev: Evidence, rows, prefix: int, read_share: float) -> dict:
    out = {}
    for row in rows.itertuples(index=False):
        p_in = ev.price(row.provider, row.model, row.region, "input")
        p_read = ev.price(row.provider, row.model, row.region, "cache_read")
        p_write = ev.price(row.provider, row.model, row.region, "cache_write") or p_in
        if p_in is None or p_read is None:
            return {}
        ok = int(row.requests) - int(row.errors)
        warm = min(int(row.warm_requests), ok)
        uncached = Decimal(str(round(1 - read_share, 4)))      # requests already reading the cache gain nothing
        gain = (Decimal(warm) * (p_in - p_read) - Decimal(ok - warm) * (p_write - p_in)) * Decimal(prefix)
        out[row.day] = out.get(row.day, Decimal(0)) + gain * uncached / MILLION
    return out


def propose(ev: Evidence, settings: RecommendSettings) -> list[Recommendation]:
    out = []
    daily = ev.daily[ev.daily["agent"] != NONE]
    for (agent, provider, model), rows in daily.groupby(["agent", "provider", "model"]):
        region = rows.groupby("region")["requests"].sum().idxmax()
        if ev.price(provider, model, region, "cache_read") is None:
            continue
        prompt = ev.prompts[(ev.prompts["agent"] == agent) & (ev.prompts["provider"] == provider)
                            & (ev.prompts["model"] == model)]
        if prompt.empty or prompt["median_prompt"].iloc[0] < settings.cache_min_prompt_tokens:
            continue
        tokens = rows[["input_tokens", "cache_read_tokens", "cache_write_tokens"]].sum()
        read_share = float(tokens["cache_read_tokens"] / max(tokens.sum(), 1))
        if read_share >= settings.cache_max_read_share:
            continue
        prefix = int(prompt["prefix_tokens"].iloc[0])
        if prefix < MIN_CACHEABLE:
            continue
        gains = daily_saving(ev, rows, prefix, read_share)
        if not gains:
            continue
        saving = monthly_saving([gains.get(d, Decimal(0)) for d in ev.days], settings.bootstrap_samples,
                                settings.seed)
        if saving.monthly < settings.min_monthly_saving:
            continue
        ok = int(rows["requests"].sum() - rows["errors"].sum())
        warm_share = float(rows["warm_requests"].sum()) / max(ok, 1)
        top = rows.iloc[0]
        out.append(Recommendation(
            kind="caching", scope_kind="agent", scope_value=agent, department=top.department, team=top.team,
            agent=agent, current_setting=f"{agent} on {model}: {read_share:.0%} of prompt tokens read from cache",
            proposed_setting=f"{agent} on {model}: cache a {prefix}-token prompt prefix", traffic_share=1.0,
            monthly_saving=saving.monthly, saving_low_80=saving.low_80, saving_high_80=saving.high_80,
            quality_change=0.0, quality_low_80=0.0, quality_high_80=0.0, evidence_count=int(rows["scored"].sum()),
            p95_latency_change_ms=0.0, risk="medium", change=_change(provider, agent, prefix),
            rationale=(f"Median prompt {int(prompt['median_prompt'].iloc[0])} tokens, {read_share:.0%} read from "
                       f"cache; {warm_share:.0%} of requests come within {settings.cache_ttl_seconds}s of the "
                       f"previous one and could read a cached prefix (assumed: the smallest {prefix} tokens of a "
                       f"prompt repeat; costwarden does not see prompt text). Same model and prompt, so quality "
                       f"is unchanged; a cached prefix usually shortens time to first token (counted as 0 here)."),
            detail={"model": f"{provider}/{model}", "prefix_tokens": prefix, "cache_read_share": round(read_share, 4),
                    "warm_share": round(warm_share, 4), "median_prompt": float(prompt["median_prompt"].iloc[0]),
                    "evidence_days": saving.days}))
    return out
