"""Root cause of a warehouse anomaly in LLM terms: the cost of its scope during the anomaly against a comparable
period before it, decomposed by models/rootcause.py into volume, model-mix, token-mix, cache-hit and price effects,
with the children (model, version, agent, team, token type) ranked by $.

Comparable period: for an anomaly shorter than a week, the same hours or days of the week in the four weeks before
it (weight 1/4), so a Monday spike is compared with Mondays; for a longer one, the 28 days (or its own length, if
longer) before it, scaled to its length. Scaling every quantity by one factor leaves every ratio alone, so only the
volume effect sees the length difference, and it is exactly removed.

The root cause line is `<effect>: <dimension>=<value>`: the effect that moved cost most in the anomaly's direction,
and where it sits (the model for a price effect, the agent otherwise). Anomalies that share a cause (a price change
seen on the model, its agents, their teams and the total) therefore carry the same line, which is what the alerts
group a storm by. Error-rate and latency anomalies name the agent or model version whose errors or latency moved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pandas as pd

from models.anomaly.warehouse_series import GRAIN_STEP, SCOPE_COLUMNS
from models.rootcause import decompose

TOKEN_TYPES = (("input", "input_tokens", "input_cost"), ("cache_read", "cache_read_tokens", "cache_read_cost"),
               ("cache_write", "cache_write_tokens", "cache_write_cost"), ("output", "output_tokens", "output_cost"))
WHERE_EFFECT_SITS = {"price": "model"}
COST_METRICS = ("spend", "requests", "tokens", "cost_per_request", "cost_per_1k_tokens", "cost_per_run",
                "output_input_ratio", "cache_hit_rate")


@dataclass
class Explanation:
    root_cause: str | None
    drivers: str | None            # JSON list
    explained: float = 0.0         # the $ change the request costs account for


def comparison_windows(start: pd.Timestamp, end: pd.Timestamp, grain: str) -> tuple[list[tuple], Decimal]:
    """[(lo, hi)) windows of the comparable period before an anomaly, and the weight that scales it to the
    anomaly's length."""
    step = GRAIN_STEP[grain]
    length = end - start + step
    if length < timedelta(days=7):
        return [(start - timedelta(days=7 * k), start - timedelta(days=7 * k) + length) for k in (1, 2, 3, 4)], \
            Decimal(1) / Decimal(4)
    before = max(length, timedelta(days=28))
    return [(start - before, start)], Decimal(int(length / step)) / Decimal(int(before / step))


def _scope_filter(scope_kind: str) -> str:
    return "" if scope_kind == "all" else f" and coalesce({SCOPE_COLUMNS[scope_kind]}, '') = ?"


def _facts(con, scope_kind, scope_value, windows) -> pd.DataFrame:
    """Cost facts (model, model_version, agent, team, token_type, requests, tokens, cost) over the windows."""
    selects = []
    for name, tokens, cost in TOKEN_TYPES:
        selects.append(f"""select coalesce(model, '') as model, coalesce(model_version, '') as model_version,
            coalesce(agent, '') as agent, coalesce(team, '') as team, '{name}' as token_type,
            count(*) over (partition by model, model_version, agent, team) as group_requests,
            coalesce({tokens}, 0) as tokens, coalesce({cost}, 0) as cost
            from picked""")
    period = " or ".join("(occurred_at >= ? and occurred_at < ?)" for _ in windows)
    sql = f"""with picked as (select * from intermediate.int_requests_priced
                              where ({period}){_scope_filter(scope_kind)})
              select model, model_version, agent, team, token_type, max(group_requests) as requests,
                     sum(tokens) as tokens, sum(cost) as cost
              from ({' union all '.join(selects)}) facts
              group by 1, 2, 3, 4, 5"""
    params = [p.to_pydatetime().replace(tzinfo=None) for w in windows for p in w]
    if scope_kind != "all":
        params.append(scope_value)
    frame = con.execute(sql, params).df()
    frame["cost"] = frame["cost"].map(lambda v: Decimal(0) if pd.isna(v) else Decimal(str(v)))
    return frame


def _scaled(frame: pd.DataFrame, weight: Decimal) -> pd.DataFrame:
    out = frame.copy()
    out["requests"] = [Decimal(int(v)) * weight for v in out["requests"]]
    out["tokens"] = [Decimal(int(v)) * weight for v in out["tokens"]]
    out["cost"] = [v * weight for v in out["cost"]]
    return out


def _top(table: pd.DataFrame, column: str, direction: float) -> pd.Series | None:
    if table.empty:
        return None
    ranked = table.assign(_aligned=table[column].astype(float) * direction).sort_values(
        ["_aligned", table.columns[0]], ascending=[False, True])
    return ranked.iloc[0]


def explain_cost(con, anomaly, grain: str) -> Explanation:
    windows, weight = comparison_windows(anomaly.start, anomaly.end, grain)
    step = GRAIN_STEP[grain]
    before = _scaled(_facts(con, anomaly.scope_kind, anomaly.scope_value, windows), weight)
    after = _facts(con, anomaly.scope_kind, anomaly.scope_value, [(anomaly.start, anomaly.end + step)])
    if before.empty and after.empty:
        return Explanation(None, None)
    result = decompose(before, after)
    change = float(result.change)
    direction = 1.0 if change >= 0 else -1.0
    effects = pd.DataFrame([{"effect": e, "value": float(v)} for e, v in result.effects.items()])
    top_effect = _top(effects, "value", direction)["effect"]
    dimension = WHERE_EFFECT_SITS.get(top_effect, "agent")
    if dimension == "model" and result.effects_by_model is not None and not result.effects_by_model.empty:
        by_model = result.effects_by_model[result.effects_by_model["effect"] == top_effect]
        by_model = by_model.groupby("model", as_index=False)["value"].sum()
        where = _top(by_model[["model", "value"]], "value", direction)["model"]
    else:
        children = result.children[result.children["dimension"] == dimension]
        top_child = _top(children[["value", "change"]], "change", direction)
        where = top_child["value"] if top_child is not None else anomaly.scope_value
    drivers = [{"name": e, "effect": e, "impact_cost": round(float(v), 6)} for e, v in
               sorted(result.effects.items(), key=lambda kv: -abs(kv[1]))]
    for dim in ("model", "model_version", "agent", "team"):
        children = result.children[result.children["dimension"] == dim].head(3)
        drivers += [{"name": f"{dim}={row.value}", "dimension": dim, "impact_cost": round(float(row.change), 6),
                     "share": None if row.share_of_change is None or pd.isna(row.share_of_change)
                     else round(float(row.share_of_change), 4)} for row in children.itertuples()]
    by_type = result.children[result.children["dimension"] == "token_type"]
    drivers += [{"name": f"token_type={row.value}", "dimension": "token_type",
                 "impact_cost": round(float(row.change), 6)} for row in by_type.itertuples()]
    return Explanation(f"{top_effect}: {dimension}={where}", json.dumps(drivers), change)


def explain_operational(con, anomaly, grain: str, metric: str) -> Explanation:
    """Errors or latency: which agent / model version's errors (or latency-time) moved most, against the same
    comparable period."""
    windows, weight = comparison_windows(anomaly.start, anomaly.end, grain)
    step = GRAIN_STEP[grain]
    measure = ("count(*) filter (where status = 'error')" if metric == "error_rate"
               else "sum(coalesce(latency_ms, 0))")
    label = "errors" if metric == "error_rate" else "latency"
    drivers = []
    best = None
    direction = 1.0 if anomaly.impact >= 0 else -1.0
    for dim, column in (("agent", "agent"), ("model_version", "model_version"), ("model", "model")):
        parts = {}
        for name, spans in (("before", windows), ("after", [(anomaly.start, anomaly.end + step)])):
            period = " or ".join("(occurred_at >= ? and occurred_at < ?)" for _ in spans)
            params = [p.to_pydatetime().replace(tzinfo=None) for w in spans for p in w]
            if anomaly.scope_kind != "all":
                params.append(anomaly.scope_value)
            parts[name] = con.execute(
                f"""select coalesce({column}, '') as value, {measure} as amount from intermediate.int_requests_priced
                    where ({period}){_scope_filter(anomaly.scope_kind)} group by 1""", params).df()
        table = parts["after"].merge(parts["before"], on="value", how="outer", suffixes=("_after", "_before"))
        table = table.fillna(0.0)
        table["change"] = table["amount_after"].astype(float) - float(weight) * table["amount_before"].astype(float)
        top = _top(table[["value", "change"]], "change", direction)
        if top is not None:
            drivers.append({"name": f"{dim}={top['value']}", "dimension": dim, "change": round(float(top["change"]), 3)})
            if best is None:
                best = f"{label}: {dim}={top['value']}"
    return Explanation(best, json.dumps(drivers) if drivers else None)


def explain_billed(con, anomaly, explained: float) -> Explanation | None:
    """A daily spend anomaly that request costs do not explain (under half of it) comes from billed lines without
    requests: direct charges, capacity, shared overhead. Name the cost kind and team whose billed cost moved most."""
    if abs(explained) >= 0.5 * abs(anomaly.impact):
        return None
    windows, weight = comparison_windows(anomaly.start, anomaly.end, "day")
    scope = "" if anomaly.scope_kind in ("all", "account") else \
        f" and coalesce({SCOPE_COLUMNS[anomaly.scope_kind]}, '') = ?"
    totals = {}
    for name, spans in (("before", windows), ("after", [(anomaly.start, anomaly.end + timedelta(days=1))])):
        period = " or ".join("(day >= cast(? as date) and day < cast(? as date))" for _ in spans)
        params = [p.to_pydatetime().replace(tzinfo=None) for w in spans for p in w]
        if scope:
            params.append(anomaly.scope_value)
        totals[name] = con.execute(f"""
            select cost_kind || ': team=' || coalesce(nullif(team, ''), '__unallocated__') as value,
                   sum(coalesce(billed_cost, 0)) as amount
            from marts.allocated_cost where ({period}){scope} group by 1""", params).df()
    table = totals["after"].merge(totals["before"], on="value", how="outer", suffixes=("_after", "_before"))
    table = table.fillna(0)
    table["change"] = table["amount_after"].astype(float) - float(weight) * table["amount_before"].astype(float)
    top = _top(table[["value", "change"]], "change", 1.0 if anomaly.impact >= 0 else -1.0)
    if top is None:
        return None
    drivers = [{"name": r.value, "effect": "billed", "impact_cost": round(float(r.change), 6)}
               for r in table.sort_values("change", key=lambda c: -c.abs()).head(5).itertuples()]
    return Explanation(f"billed {top['value']}", json.dumps(drivers))


def explain(con, anomaly, grain: str, metric: str) -> Explanation:
    if metric in COST_METRICS:
        found = explain_cost(con, anomaly, grain)
        if metric == "spend" and grain == "day":
            billed = explain_billed(con, anomaly, found.explained)
            if billed is not None:
                return billed
        return found
    return explain_operational(con, anomaly, grain, metric)
