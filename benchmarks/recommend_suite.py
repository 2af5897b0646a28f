"""A seeded synthetic company for the recommendation evaluation, where the right answer is known.

Per task type, a production agent runs the expensive model (10% of requests scored by an evaluator) and, for most
task types, an evaluation agent runs every model on the same task (all scored): that is the quality evidence. Each
cheaper model's true quality difference on each task type is drawn from a set that includes models within the
tolerance and models clearly worse (which must never be recommended); per seed one cheap model is slow (breaks the
latency SLO) and one has a high error rate. A night-time job (batch) and a large-prompt agent on a caching-capable
model (caching) complete it. Requests go straight into raw.inference_requests and the normal SQL build prices them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from costwarden import db
from costwarden.build import build_warehouse
from costwarden.config import Settings
from models.recommend.settings import LatencySlo, RecommendSettings

START = datetime(2026, 1, 5)      # a Monday
REGION = "us-east-1"
TOLERANCE = 0.02

# canonical id -> (ttft ms, ms per output token, base error rate); prices come from the shipped price book.
MODELS = {
    "anthropic.claude-3-5-sonnet-20241022-v2:0": (700, 15, 0.008),
    "amazon.nova-pro-v1:0": (450, 10, 0.005),
    "anthropic.claude-3-haiku-20240307-v1:0": (380, 7, 0.006),
    "amazon.nova-lite-v1:0": (260, 5, 0.004),
    "amazon.nova-micro-v1:0": (200, 3.5, 0.004),
}
EXPENSIVE = "anthropic.claude-3-5-sonnet-20241022-v2:0"
CHEAP = [m for m in MODELS if m != EXPENSIVE]
DELTAS = (0.01, 0.0, -0.005, -0.01, -0.015, -0.025, -0.035, -0.07, -0.12)     # true quality difference vs the expensive model
TASKS = ("qa", "summarisation", "extraction", "classification", "coding")


@dataclass
class Truth:
    quality: dict = field(default_factory=dict)      # (task, model) -> true mean quality
    slow_model: str = ""
    faulty_model: str = ""
    no_evidence_task: str = ""
    slos: list = field(default_factory=list)

    agents: dict = field(default_factory=dict)     # name -> Agent

    def current(self, agent: str) -> str:
        models = self.agents[agent].models
        return max(models, key=models.get)

    def quality_change(self, agent: str, task: str, model: str) -> float:
        return self.quality[(task, model)] - self.quality[(task, self.current(agent))]

    def true_p95(self, agent: str, model: str) -> float:
        """p95 latency of the agent's traffic on `model`, from the generating process (a large seeded sample)."""
        a = self.agents[agent]
        rng = np.random.default_rng(99)
        prompt = np.maximum(1, rng.lognormal(np.log(a.input_median), 0.4, 20000))
        output = np.maximum(1, rng.lognormal(np.log(a.output_median), 0.5, 20000))
        return float(np.quantile(_latency(model, self, prompt, output, rng), 0.95))

    def acceptable(self, agent: str, task: str, model: str) -> bool:
        """Would moving the agent's `task` traffic from its current model to `model` keep quality (within the
        tolerance), errors (not the faulty model) and latency (its true p95 within the agent's SLO, or within +20%
        of the current p95 without one)?"""
        slo = next((s.p95_latency_ms for s in self.slos if s.scope == agent), None)
        limit = slo if slo is not None else 1.2 * self.true_p95(agent, self.current(agent))
        return (self.quality_change(agent, task, model) >= -TOLERANCE and model != self.faulty_model
                and self.true_p95(agent, model) <= limit)


@dataclass
class Agent:
    name: str
    task: str
    models: dict            # model -> share of runs
    rate: float             # mean requests per day
    scored: float
    input_median: int
    output_median: int
    night: bool = False
    cache_capable: bool = False


def plan(seed: int) -> tuple[list[Agent], Truth]:
    rng = np.random.default_rng([seed, 1])
    truth = Truth()
    truth.slow_model, truth.faulty_model = (str(m) for m in rng.choice(CHEAP, size=2, replace=False))
    truth.no_evidence_task = str(rng.choice(TASKS))
    agents = []
    for task in TASKS:
        base = float(rng.uniform(0.86, 0.93))
        truth.quality[(task, EXPENSIVE)] = base
        for model in CHEAP:
            truth.quality[(task, model)] = base + float(rng.choice(DELTAS))
        size = int(rng.choice([800, 2000, 5000]))
        agents.append(Agent(f"{task}-prod", task, {EXPENSIVE: 1.0}, float(rng.uniform(150, 400)), 0.1, size,
                            int(rng.choice([40, 200, 500]))))
        if task != truth.no_evidence_task:
            mix = {m: 1 / len(MODELS) for m in MODELS}
            agents.append(Agent(f"{task}-eval", task, mix, 30.0, 1.0, size, 200))
    agents.append(Agent("nightly-digest", "summarisation", {EXPENSIVE: 1.0}, 120.0, 0.05, 6000, 600, night=True))
    agents.append(Agent("doc-assistant", "qa", {"amazon.nova-pro-v1:0": 1.0}, 200.0, 0.05, 9000, 300))
    truth.agents = {a.name: a for a in agents}
    return agents, truth


def _latency(model: str, truth: Truth, prompt, output, rng):
    ttft, per_token, _ = MODELS[model]
    if model == truth.slow_model:
        per_token *= 6
    return ttft * (0.7 + prompt / 6000.0) * rng.lognormal(0, 0.3, len(prompt)) + \
        output * per_token * rng.lognormal(0, 0.15, len(prompt))


def simulate(agents: list[Agent], truth: Truth, days: int, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, 2])
    parts = []
    day_index = np.arange(days)
    weekday = (START.weekday() + day_index) % 7
    for agent in agents:
        daily = agent.rate * np.where(weekday >= 5, 0.5, 1.15) * 1.05 ** (day_index / 30) \
            * rng.lognormal(0, 0.1, days)
        counts = rng.poisson(daily)
        n = int(counts.sum())
        day = np.repeat(day_index, counts)
        if agent.night:
            second = rng.uniform(3600, 4 * 3600, n)
        else:
            second = np.clip(rng.normal(15 * 3600, 3 * 3600, n), 0, 86399)
        at = np.array([START + timedelta(days=int(d)) for d in day], dtype="datetime64[us]") + \
            (second * 1e6).astype("timedelta64[us]")
        models = np.array(list(agent.models))[rng.choice(len(agent.models), size=n, p=list(agent.models.values()))]
        prompt = np.maximum(1, rng.lognormal(np.log(agent.input_median), 0.4, n)).astype(np.int64)
        output = np.maximum(1, rng.lognormal(np.log(agent.output_median), 0.5, n)).astype(np.int64)
        error_rate = np.array([MODELS[m][2] * (8 if m == truth.faulty_model else 1) for m in models])
        failed = rng.random(n) < error_rate
        latency = np.zeros(n)
        for model in set(models):
            pick = models == model
            latency[pick] = _latency(model, truth, prompt[pick], output[pick], rng)
        quality_mean = np.array([truth.quality[(agent.task, m)] for m in models])
        scored = (rng.random(n) < agent.scored) & ~failed
        quality = np.where(scored, np.clip(np.round(rng.normal(quality_mean, 0.06), 2), 0, 1), np.nan)
        parts.append(pa.table({
            "request_id": [str(uuid.UUID(int=int(x))) for x in rng.integers(0, 2**63, n)],
            "occurred_at": pa.array(at, pa.timestamp("us")), "agent": [agent.name] * n, "task_type": [agent.task] * n,
            "model": models, "input_tokens": np.where(failed, 0, prompt), "output_tokens": np.where(failed, 0, output),
            "latency_ms": latency, "status": np.where(failed, "error", "success"),
            "quality_score": pa.array(quality, from_pandas=True)}))
    return pa.concat_tables(parts)


def build(path: str, seed: int, days: int = 120) -> tuple[Truth, RecommendSettings]:
    """Write the suite's warehouse at `path` and return the truth and the settings to run with."""
    agents, truth = plan(seed)
    table = simulate(agents, truth, days, seed)
    con = db.connect(path)
    try:
        con.register("suite", table)
        con.execute("""
            insert into raw.inference_requests (source_format, request_id, occurred_at, trace_id, agent, operation,
                team, department, environment, region, account_id, provider, model_id, model, input_tokens,
                output_tokens, cache_read_tokens, cache_write_tokens, latency_ms, status, finish_reason, task_type,
                quality_score, _load_id, _source_object, _source_line)
            select 'generic', request_id, occurred_at, request_id, agent, 'chat', split_part(agent, '-', 1) || '-team',
                'suite', 'prod', ?, '123456789012', 'aws.bedrock', model, model, input_tokens, output_tokens, 0, 0,
                latency_ms, status, case when status = 'success' then 'end_turn' end, task_type, quality_score,
                'suite', 'suite', 0
            from suite""", [REGION])
        # SLOs: 1.5 x the expensive model's p95 on each production agent (tight enough to catch the slow model).
        slos = []
        for name, p95 in con.execute("select agent, quantile_cont(latency_ms, 0.95) from suite where status = "
                                     "'success' and agent like '%-prod' group by 1").fetchall():
            slos.append(LatencySlo(scope_kind="agent", scope=name, p95_latency_ms=round(1.5 * p95)))
        con.unregister("suite")
    finally:
        con.close()
    build_warehouse(Settings(), path)
    truth.slos = slos
    return truth, RecommendSettings(slos=slos)
