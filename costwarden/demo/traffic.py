"""Hourly traffic simulation, vectorised with numpy: agent runs per hour, model calls per run, tokens, latency,
errors, cache behaviour and evaluator scores.

Seasonality (weekday/weekend, business hours), growth and day-to-day noise shape each agent's hourly rate; the
incident plan (incidents.py) multiplies it. Each agent draws from its own generator seeded by (seed, agent index),
so output is identical for identical seeds. The result is one Arrow table of requests sorted by time.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from costwarden.demo.company import AGENTS, MODEL_KEYS, MODELS, QUALITY, TASK_TYPES, Agent
from costwarden.demo.incidents import Window, effects_for

ERROR_CLASSES = ("ThrottlingException", "ModelTimeoutException", "ValidationException", "InternalServerException")
_ERROR_SHARES = (0.6, 0.15, 0.15, 0.1)
_STEP_PAUSE_S = 2.0        # tool calls and bookkeeping between two model calls of one run


def _shape(profile: str, w: Window) -> np.ndarray:
    """Relative hourly rate over the window, averaging 1 over a full week."""
    hours = np.arange(w.hours + 168)
    hour_of_day = hours % 24
    weekday = (w.start.weekday() + hours // 24) % 7
    weekend = weekday >= 5
    if profile == "consumer":
        rate = 0.35 + 0.65 * (0.5 + 0.5 * np.cos(2 * np.pi * (hour_of_day - 18) / 24))
        rate = np.where(weekend, rate * 0.85, rate)
    elif profile == "business":       # US business hours, 13-23 UTC; nights and weekends nearly idle
        rate = 0.0003 + np.exp(-(((hour_of_day - 17.5) / 3.0) ** 2))
        rate = np.where(weekend, rate * 0.04, rate)
    elif profile == "night_batch":    # an offline job, 01:00-04:00 UTC every day
        rate = ((hour_of_day >= 1) & (hour_of_day < 4)).astype(float)
    else:                             # pipeline: steady, slightly busier in the day
        rate = 1.0 + 0.15 * np.sin(2 * np.pi * (hour_of_day - 9) / 24)
    return rate[:w.hours] / rate[:168].mean()


def hourly_rate(agent: Agent, w: Window, scale: float, rng: np.random.Generator, multiplier) -> np.ndarray:
    """Expected requests per hour (before incident multipliers on steps)."""
    t_days = np.arange(w.hours) / 24.0
    growth = (1.0 + agent.growth) ** ((t_days - w.days / 2) / 30.0)   # 1 at mid-window
    daily_noise = np.repeat(rng.lognormal(0.0, 0.08, w.days), 24)
    rate = agent.rate * scale * _shape(agent.profile, w) * growth * daily_noise * multiplier
    rate[: int(agent.launch * w.hours)] = 0.0
    return rate


def simulate_agent(index: int, agent: Agent, w: Window, scale: float, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, index])
    fx = effects_for(agent.name, w)
    rate = hourly_rate(agent, w, scale, rng, fx["rate"])
    runs_per_hour = rng.poisson(rate / agent.steps)
    runs = int(runs_per_hour.sum())
    run_hour = np.repeat(np.arange(w.hours), runs_per_hour)
    run_start_s = run_hour * 3600.0 + rng.uniform(0, 3600, runs)
    steps = 1 + rng.poisson(np.maximum(agent.steps * fx["steps"][run_hour] - 1.0, 0.0))
    n = int(steps.sum())
    req_run = np.repeat(np.arange(runs), steps)
    step = np.arange(n) - np.repeat(np.cumsum(steps) - steps, steps)
    hour = run_hour[req_run]

    # Model per request: the agent's model, a per-run mix (evaluations), or a rollout from an hour on.
    model = np.full(n, MODEL_KEYS.index(agent.model), dtype=np.int16)
    if agent.model_mix:
        keys = list(agent.model_mix)
        pick = rng.choice(len(keys), size=runs, p=list(agent.model_mix.values()))
        model = np.array([MODEL_KEYS.index(k) for k in keys], dtype=np.int16)[pick][req_run]
    if fx["switch"] is not None:
        from_hour, new_model = fx["switch"]
        model = np.where(hour >= from_hour, MODEL_KEYS.index(new_model), model).astype(np.int16)
    tasks = list(agent.tasks)
    task = np.array([TASK_TYPES.index(t) for t in tasks], dtype=np.int8)[
        rng.choice(len(tasks), size=runs, p=list(agent.tasks.values()))][req_run]

    # Tokens: context grows with each step of a run; prompt bloat multiplies input from its start hour.
    growth_in_run = 1.0 + 0.25 * np.minimum(step, 8)
    input_tokens = rng.lognormal(np.log(agent.input_median), 0.45, n) * growth_in_run * fx["input"][hour]
    output_tokens = rng.lognormal(np.log(agent.output_median), 0.55, n)
    cache_read = np.zeros(n)
    cache_write = np.zeros(n)
    caching = np.array([MODELS[k].caching for k in MODEL_KEYS])[model]
    if agent.cache_prefix:
        hit_rate = np.where(np.isnan(fx["cache_hit"]), agent.cache_hit, fx["cache_hit"])[hour]
        hit = caching & (rng.random(n) < hit_rate)
        miss = caching & ~hit
        openai = np.array([MODELS[k].provider == "openai" for k in MODEL_KEYS])[model]
        cache_read = np.where(hit, agent.cache_prefix, 0)
        # A miss writes the prefix to the cache (Anthropic bills it); OpenAI charges it as plain input.
        cache_write = np.where(miss & ~openai, agent.cache_prefix, 0)
        input_tokens = input_tokens + np.where(miss & openai, agent.cache_prefix, 0)
        input_tokens = input_tokens + np.where(~caching, agent.cache_prefix, 0)

    # Errors: per-model base rate, raised by incidents (throttling during the loop); failed calls bill nothing.
    error_rate = np.array([MODELS[k].error_rate for k in MODEL_KEYS])[model] * fx["errors"][hour]
    failed = rng.random(n) < error_rate
    error = np.where(failed, 1 + rng.choice(len(ERROR_CLASSES), size=n, p=_ERROR_SHARES), 0).astype(np.int8)
    input_tokens = np.where(failed, 0, np.maximum(1, np.rint(input_tokens))).astype(np.int64)
    output_tokens = np.where(failed, 0, np.maximum(1, np.rint(output_tokens))).astype(np.int64)
    cache_read = np.where(failed, 0, cache_read).astype(np.int64)
    cache_write = np.where(failed, 0, cache_write).astype(np.int64)

    # Latency: time to first token grows with the prompt; decoding with the output.
    ttft_base = np.array([MODELS[k].ttft_ms for k in MODEL_KEYS])[model] * (0.8 if agent.provisioned else 1.0)
    per_token = np.array([MODELS[k].ms_per_token for k in MODEL_KEYS])[model]
    prompt = input_tokens + cache_read + cache_write
    ttft = ttft_base * (0.7 + prompt / 6000.0) * rng.lognormal(0.0, 0.3, n)
    latency = ttft + output_tokens * per_token * rng.lognormal(0.0, 0.15, n)
    latency = np.where(failed, np.where(error == 2, 60000.0, ttft * 0.3), latency)

    step_gap = (ttft_base.mean() + agent.output_median * per_token.mean()) / 1000.0 + _STEP_PAUSE_S
    at_ms = np.floor((run_start_s[req_run] + step * step_gap) * 1000.0).astype(np.int64)

    quality_mean = np.array([[QUALITY[k][t] for t in TASK_TYPES] for k in MODEL_KEYS])[model, task]
    scored = (rng.random(n) < agent.quality_sampled) & ~failed
    quality = np.where(scored, np.clip(np.round(rng.normal(quality_mean, 0.06), 2), 0.0, 1.0), np.nan)

    sessions = rng.integers(0, agent.sessions, runs)[req_run]
    end_user = rng.integers(0, max(agent.end_users, 1), runs)[req_run]
    trace = rng.integers(0, np.iinfo(np.uint64).max, size=(runs, 2), dtype=np.uint64, endpoint=True)[req_run]
    request = rng.integers(0, np.iinfo(np.uint64).max, size=(n, 2), dtype=np.uint64, endpoint=True)
    inference_elsewhere = rng.random(n) < 0.3      # cross-region profiles route some calls to another region
    keep = at_ms < w.hours * 3600 * 1000           # the last runs of the window spill past its end
    columns = {
        "at_ms": at_ms, "agent": np.full(n, index, dtype=np.int16), "model": model, "task": task,
        "step": step.astype(np.int32), "input_tokens": input_tokens, "output_tokens": output_tokens,
        "cache_read_tokens": cache_read, "cache_write_tokens": cache_write,
        "ttft_ms": np.rint(ttft), "latency_ms": np.rint(latency), "error": error, "quality": quality,
        "session": sessions.astype(np.int32), "end_user": end_user.astype(np.int32),
        "trace_hi": trace[:, 0], "trace_lo": trace[:, 1], "req_hi": request[:, 0], "req_lo": request[:, 1],
        "elsewhere": inference_elsewhere,
    }
    return {k: v[keep] for k, v in columns.items()}


def simulate(w: Window, scale: float, seed: int) -> pa.Table:
    """Every request of every agent over the window, sorted by time (then agent, then draw order)."""
    parts = [simulate_agent(i, a, w, scale, seed) for i, a in enumerate(AGENTS)]
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((merged["agent"], merged["at_ms"]))
    table = pa.table({k: pa.array(v[order], from_pandas=True) for k, v in merged.items()})   # NaN -> null
    return table.set_column(0, "at_ms", pa.array(merged["at_ms"][order] + w.start_ms, pa.int64()))
