"""Routing: move a scope's traffic (one agent's requests of one task type) to a cheaper model that served similar
traffic at the same quality, within the latency target; or, without quality evidence, propose a shadow test.

Quality evidence is the evaluator scores in the logs (quality_score), pooled per task type and model across agents;
when the agent itself ran both models on the task (an evaluation harness, an A/B split), its own paired scores are
used instead. Error rate and truncated answers (finish reason length / max_tokens) must not get worse beyond their
tolerances. The p95 latency of the scope on the candidate is predicted from the scope's own prompt and answer sizes
(latency.py) and checked against the tightest SLO that applies (agent, team, task type), or, without one, against
the current p95 plus max_latency_increase.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from models.recommend import latency as latency_model
from models.recommend.evidence import Evidence
from models.recommend.pricing import daily_cost, daily_difference, has_prices
from models.recommend.record import Recommendation
from models.recommend.settings import RecommendSettings
from models.recommend.stats import QualityChange, monthly_saving, quality_change

NONE = "__none__"
_LITELLM_PREFIX = {"aws.bedrock": "bedrock/", "openai": "openai/", "anthropic": "anthropic/",
                   "azure.ai.openai": "azure/", "gcp.vertex_ai": "vertex_ai/", "gcp.gemini": "gemini/"}


@dataclass(frozen=True)
class Stats:
    n: int
    mean: float
    var: float
    requests: int
    errors: int
    truncated: int
    mean_output: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def truncation_rate(self) -> float:
        return self.truncated / self.requests if self.requests else 0.0

    def as_tuple(self) -> tuple[int, float, float]:
        return self.n, self.mean, self.var


def _pool(rows: pd.DataFrame) -> Stats:
    """Combine per-agent (n, mean, var) rows into one."""
    n = int(rows["n"].sum())
    requests = int(rows["requests"].sum())
    scored = rows[rows["n"] > 0]
    if n:
        total = float((scored["n"] * scored["mean"]).sum())
        sumsq = float(((scored["n"] - 1).clip(lower=0) * scored["var"] + scored["n"] * scored["mean"] ** 2).sum())
        mean = total / n
        var = max((sumsq - n * mean * mean) / (n - 1), 0.0) if n > 1 else 0.0
    else:
        mean, var = float("nan"), 0.0
    ok = rows.dropna(subset=["mean_output"])
    mean_output = (float((ok["mean_output"] * (ok["requests"] - ok["errors"])).sum()
                         / max((ok["requests"] - ok["errors"]).sum(), 1)) if not ok.empty else None)
    return Stats(n, mean, var, requests, int(rows["errors"].sum()), int(rows["truncated"].sum()), mean_output)


@dataclass(frozen=True)
class Scope:
    department: str
    team: str
    agent: str
    task_type: str
    provider: str
    model: str
    share_of_agent: float       # this scope's share of the agent's requests


def scopes(ev: Evidence) -> list[Scope]:
    """Each agent x task type with the model that served most of it in the window."""
    usage = ev.daily.groupby(["department", "team", "agent", "task_type", "provider", "model"],
                             as_index=False)["requests"].sum()
    agent_total = usage.groupby("agent")["requests"].sum()
    out = []
    for (agent, task), rows in usage.groupby(["agent", "task_type"]):
        if agent == NONE:
            continue
        top = rows.sort_values(["requests", "model"], ascending=[False, True]).iloc[0]
        out.append(Scope(top.department, top.team, agent, task, top.provider, top.model,
                         float(top.requests) / float(agent_total[agent])))
    return out


def _quality_basis(ev: Evidence, scope: Scope, provider: str, model: str, min_evidence: int):
    """(current stats, candidate stats, basis): the agent's own paired evidence when it has enough of both,
    else both models pooled over every agent with this task type."""
    q = ev.quality[ev.quality["task_type"] == scope.task_type]
    own = q[q["agent"] == scope.agent]
    cur_own = _pool(own[(own["provider"] == scope.provider) & (own["model"] == scope.model)])
    cand_own = _pool(own[(own["provider"] == provider) & (own["model"] == model)])
    if cur_own.n >= min_evidence and cand_own.n >= min_evidence:
        return cur_own, cand_own, "paired (same agent)"
    cur = _pool(q[(q["provider"] == scope.provider) & (q["model"] == scope.model)])
    cand = _pool(q[(q["provider"] == provider) & (q["model"] == model)])
    return cur, cand, "pooled over agents with this task type"


def _output_ratio(ev: Evidence, scope: Scope, provider: str, model: str) -> float:
    """Typical answer length of the candidate relative to the current model, from agents that ran both on this
    task type (answer length depends on the agent's prompt more than on the model); 1 without such evidence."""
    q = ev.quality[ev.quality["task_type"] == scope.task_type].dropna(subset=["mean_output"])
    ratios, weights = [], []
    for _, rows in q.groupby("agent"):
        cur = rows[(rows["provider"] == scope.provider) & (rows["model"] == scope.model)]
        cand = rows[(rows["provider"] == provider) & (rows["model"] == model)]
        if len(cur) and len(cand) and cur["mean_output"].iloc[0] > 0:
            ratios.append(float(cand["mean_output"].iloc[0] / cur["mean_output"].iloc[0]))
            weights.append(min(int(cur["requests"].iloc[0]), int(cand["requests"].iloc[0])))
    if not ratios or sum(weights) < 30:
        return 1.0
    return sum(r * w for r, w in zip(ratios, weights)) / sum(weights)


def slo_for(settings: RecommendSettings, scope: Scope) -> float | None:
    applying = [s.p95_latency_ms for s in settings.slos
                if (s.scope_kind, s.scope) in {("agent", scope.agent), ("team", scope.team),
                                               ("task_type", scope.task_type)}]
    return min(applying) if applying else None


def litellm_snippet(scope: Scope, provider: str, model: str, region: str, tagged: bool) -> str:
    """A LiteLLM proxy config.yaml fragment: one deployment group per agent; with several task types the
    candidate serves only requests tagged with this task type (tag-based routing)."""
    def deployment(prov: str, mdl: str, tag: str | None) -> list[str]:
        lines = [f"  - model_name: {scope.agent}", "    litellm_params:",
                 f"      model: {_LITELLM_PREFIX.get(prov, prov + '/')}{mdl}"]
        if prov == "aws.bedrock" and region not in ("", "*"):
            lines.append(f"      aws_region_name: {region}")
        if tag:
            lines.append(f'      tags: ["{tag}"]')
        return lines

    lines = [f"# LiteLLM proxy config.yaml: {scope.agent} calls model \"{scope.agent}\""]
    if tagged:
        lines[0] += f"; requests sent with metadata tags [\"{scope.task_type}\"] go to {model}"
    lines.append("model_list:")
    lines += deployment(provider, model, scope.task_type if tagged else None)
    if tagged:
        lines += deployment(scope.provider, scope.model, "default")
        lines += ["router_settings:", "  enable_tag_filtering: true"]
    return "\n".join(lines)


@dataclass
class Candidate:
    provider: str
    model: str
    saving: object
    quality: QualityChange
    basis: str
    current: Stats
    stats: Stats
    output_ratio: float
    p95_current: float | None
    p95_candidate: float | None
    slo: float | None
    verdict: str               # routing | evaluate | rejected
    reasons: list


def _judge(settings: RecommendSettings, cand: Candidate) -> None:
    s = settings
    q, reasons = cand.quality, []
    enough = cand.current.n >= s.min_evidence and cand.stats.n >= s.min_evidence
    if enough and q.lower_bound is not None and q.lower_bound < -s.quality_tolerance:
        reasons.append(f"quality {q.delta:+.3f} (lower bound {q.lower_bound:+.3f}) breaks the tolerance "
                       f"-{s.quality_tolerance}")
    if cand.stats.requests >= 100 and cand.stats.error_rate > cand.current.error_rate + s.error_rate_tolerance:
        reasons.append(f"error rate {cand.stats.error_rate:.2%} vs {cand.current.error_rate:.2%}")
    if cand.stats.requests >= 100 and (cand.stats.truncation_rate
                                       > cand.current.truncation_rate + s.truncation_tolerance):
        reasons.append(f"truncated answers {cand.stats.truncation_rate:.2%} vs {cand.current.truncation_rate:.2%}")
    if cand.p95_candidate is not None:
        limit = cand.slo if cand.slo is not None else (cand.p95_current or 0) * (1 + s.max_latency_increase)
        if cand.p95_candidate > limit:
            what = "the SLO" if cand.slo is not None else f"current p95 +{s.max_latency_increase:.0%}"
            reasons.append(f"predicted p95 {cand.p95_candidate:.0f} ms exceeds {what} ({limit:.0f} ms)")
    if reasons:
        cand.verdict, cand.reasons = "rejected", reasons
    elif enough and cand.p95_candidate is not None:
        cand.verdict = "routing"
    elif cand.stats.n and cand.current.n and q.delta is not None and cand.stats.n >= 2 and cand.current.n >= 2 and \
            q.high_80 is not None and q.high_80 < -s.quality_tolerance:
        cand.verdict, cand.reasons = "rejected", [f"the little evidence there is says worse ({q.delta:+.3f})"]
    else:
        cand.verdict = "evaluate"
        cand.reasons = [f"{cand.current.n} scored requests on the current model, "
                        f"{cand.stats.n} on the candidate (need {s.min_evidence} each)"
                        + ("" if cand.p95_candidate is not None else "; no latency evidence for the candidate")]


def _plausible(ev: Evidence, settings: RecommendSettings, scope: Scope, provider: str, model: str) -> bool:
    """An untested model is worth a shadow test only if, on the task types where both it and the current model
    have evidence, it scores within the tolerance of the current model on average."""
    q = ev.quality[ev.quality["n"] >= settings.min_evidence]
    cur = q[(q["provider"] == scope.provider) & (q["model"] == scope.model)].groupby("task_type")
    cand = q[(q["provider"] == provider) & (q["model"] == model)].groupby("task_type")
    cur_means = {t: _pool(rows).mean for t, rows in cur}
    cand_means = {t: _pool(rows).mean for t, rows in cand}
    common = (set(cur_means) & set(cand_means)) - {scope.task_type}
    if not common or scope.task_type in cand_means:
        return False
    return sum(cand_means[t] - cur_means[t] for t in common) / len(common) >= -settings.quality_tolerance


def candidates(ev: Evidence, settings: RecommendSettings, scope: Scope, fits: dict) -> list[Candidate]:
    rows = ev.daily[(ev.daily["agent"] == scope.agent) & (ev.daily["task_type"] == scope.task_type)
                    & (ev.daily["provider"] == scope.provider) & (ev.daily["model"] == scope.model)]
    region = rows.groupby("region")["requests"].sum().idxmax()
    current_cost = daily_cost(ev, rows)
    served = ev.quality[((ev.quality["task_type"] == scope.task_type) & (scope.task_type != NONE))
                        | (ev.quality["agent"] == scope.agent)]
    options = {(p, m) for p, m in zip(served["provider"], served["model"])}
    # Models that never served this task type but hold quality elsewhere: shadow-test candidates only.
    options |= {key for key in fits if _plausible(ev, settings, scope, *key)}
    options -= {(scope.provider, scope.model)}
    sample = ev.latency[(ev.latency["agent"] == scope.agent) & (ev.latency["task_type"] == scope.task_type)
                        & (ev.latency["provider"] == scope.provider) & (ev.latency["model"] == scope.model)]
    p95_now = latency_model.scope_p95(fits, scope.provider, scope.model, sample)
    out = []
    for provider, model in sorted(options):
        if not has_prices(ev, provider, model, region):
            continue
        ratio = _output_ratio(ev, scope, provider, model)
        proposed = daily_cost(ev, rows, provider, model, ratio)
        if not proposed:
            continue
        saving = monthly_saving(daily_difference(ev, current_cost, proposed), settings.bootstrap_samples,
                                settings.seed)
        if saving.monthly < settings.min_monthly_saving:
            continue
        cur, cand, basis = _quality_basis(ev, scope, provider, model, settings.min_evidence)
        quality = quality_change(cur.as_tuple(), cand.as_tuple(), settings.quality_confidence)
        p95_cand = latency_model.scope_p95(fits, provider, model, sample)
        c = Candidate(provider, model, saving, quality, basis, cur, cand, ratio, p95_now, p95_cand,
                      slo_for(settings, scope), "", [])
        _judge(settings, c)
        out.append(c)
    return out


def _risk(settings: RecommendSettings, scope: Scope, c: Candidate) -> str:
    if c.verdict == "evaluate":
        return "low"              # a shadow test changes nothing users see
    if c.provider != scope.provider or c.quality.lower_bound < -settings.quality_tolerance / 2:
        return "high" if c.provider != scope.provider and c.quality.lower_bound < -settings.quality_tolerance / 2 \
            else "medium"
    if min(c.current.n, c.stats.n) < 3 * settings.min_evidence:
        return "medium"
    return "low"


def _recommendation(settings: RecommendSettings, scope: Scope, c: Candidate, region: str,
                    tagged: bool, rejected: list[Candidate]) -> Recommendation:
    q = c.quality
    latency_change = (None if c.p95_candidate is None or c.p95_current is None
                      else round(c.p95_candidate - c.p95_current, 1))
    where = f"{scope.agent} ({scope.task_type})" if scope.task_type != NONE else scope.agent
    if c.verdict == "routing":
        change = litellm_snippet(scope, c.provider, c.model, region, tagged)
        rationale = (f"{c.model} scores {q.delta:+.3f} vs {scope.model} on {scope.task_type} ({c.basis}; "
                     f"{q.evidence} scored requests; 80% interval {q.low_80:+.3f}..{q.high_80:+.3f}, within the "
                     f"-{settings.quality_tolerance} tolerance); errors {c.stats.error_rate:.2%} vs "
                     f"{c.current.error_rate:.2%}; predicted p95 {c.p95_candidate:.0f} ms vs {c.p95_current:.0f} ms"
                     + (f" (SLO {c.slo:.0f} ms)" if c.slo else "") + ".")
    else:
        change = (f"Shadow-test {c.model} on {where}: mirror a sample of the scope's requests to {c.model} (e.g. "
                  f"LiteLLM's fallback/mirroring or an offline replay), score both answers with the evaluator, and "
                  f"re-run `costwarden recommend` once {settings.min_evidence} scored requests exist for each model.")
        rationale = ("Not enough quality evidence to switch: " + "; ".join(c.reasons)
                     + f". If {c.model} holds quality, the saving would be about {c.saving.monthly} USD a month.")
    detail = {"task_type": scope.task_type, "current_model": f"{scope.provider}/{scope.model}",
              "proposed_model": f"{c.provider}/{c.model}", "quality_basis": c.basis,
              "current_quality": {"n": c.current.n, "mean": c.current.mean},
              "candidate_quality": {"n": c.stats.n, "mean": c.stats.mean},
              "current_error_rate": c.current.error_rate, "candidate_error_rate": c.stats.error_rate,
              "output_ratio": round(c.output_ratio, 3), "p95_current_ms": c.p95_current,
              "p95_candidate_ms": c.p95_candidate, "slo_ms": c.slo, "evidence_days": c.saving.days,
              "rejected": [
                  {"model": f"{r.provider}/{r.model}", "why": r.reasons} for r in rejected]}
    return Recommendation(
        kind=c.verdict, scope_kind="task_type" if scope.task_type != NONE else "agent",
        scope_value=scope.task_type if scope.task_type != NONE else scope.agent,
        department=scope.department, team=scope.team, agent=scope.agent,
        current_setting=f"{scope.agent}: {scope.task_type} on {scope.model}",
        proposed_setting=(f"{scope.agent}: {scope.task_type} on {c.model}" if c.verdict == "routing"
                          else f"{scope.agent}: shadow-test {c.model} on {scope.task_type}"),
        traffic_share=round(scope.share_of_agent, 4),
        monthly_saving=c.saving.monthly if c.verdict == "routing" else Decimal(0),
        saving_low_80=c.saving.low_80 if c.verdict == "routing" else Decimal(0),
        saving_high_80=c.saving.high_80 if c.verdict == "routing" else Decimal(0),
        quality_change=q.delta, quality_low_80=q.low_80, quality_high_80=q.high_80, evidence_count=q.evidence,
        p95_latency_change_ms=latency_change if c.verdict == "routing" else None,
        risk=_risk(settings, scope, c), change=change, rationale=rationale,
        detail={**detail, "potential_monthly_saving": str(c.saving.monthly)})


def propose(ev: Evidence, settings: RecommendSettings, turned_down: list | None = None) -> list[Recommendation]:
    """Routing and shadow-test recommendations; candidates that were judged and failed are appended to
    `turned_down` (scope, model, reasons) when given, so a report can show what was not recommended and why."""
    fits = latency_model.fit_models(ev.latency)
    tasks_per_agent = ev.daily[ev.daily["task_type"] != NONE].groupby("agent")["task_type"].nunique()
    out = []
    for scope in scopes(ev):
        if not has_prices(ev, scope.provider, scope.model):
            rows = ev.daily[(ev.daily["agent"] == scope.agent) & (ev.daily["model"] == scope.model)]
            if rows.empty or not has_prices(ev, scope.provider, scope.model, rows["region"].iloc[0]):
                continue    # capacity-served or unpriced traffic: the capacity recommender covers it
        found = candidates(ev, settings, scope, fits)
        if turned_down is not None:
            turned_down += [{"agent": scope.agent, "task_type": scope.task_type, "current_model": scope.model,
                             "model": c.model, "monthly_saving": str(c.saving.monthly), "why": c.reasons}
                            for c in found if c.verdict == "rejected"]
        region = ev.daily[(ev.daily["agent"] == scope.agent)].groupby("region")["requests"].sum().idxmax()
        best = max((c for c in found if c.verdict == "routing"), key=lambda c: c.saving.monthly, default=None)
        if best is None:
            best = max((c for c in found if c.verdict == "evaluate"), key=lambda c: c.saving.monthly, default=None)
        if best is None:
            continue
        rejected = [c for c in found if c.verdict == "rejected"]
        tagged = int(tasks_per_agent.get(scope.agent, 0)) > 1
        out.append(_recommendation(settings, scope, best, region, tagged, rejected))
    return out
