"""The warehouse's series for `costwarden detect`: one long frame (series_key, timestamp, value) per metric family,
plus the per-bucket measures that turn an anomaly's metric impact into a $ impact.

Sources:
- daily `spend`: marts.allocated_cost, billed cost where the bill has it, the request estimate where it does not
  yet (cost_kind estimated_unbilled), in the billing currency; scope `all` includes idle. Shared overhead (support
  plans, tax) is left out: it is booked once a month by the bill, says nothing about usage, and would make every
  team's first of the month an anomaly.
- everything else (and hourly spend): intermediate.int_requests_priced, one bucket per day or hour. Unit costs use
  the request's estimated cost (price book, with configured price changes), which exists per request and per hour.

Additive metrics (spend, requests, tokens) are zero in a bucket without requests; rates (unit costs, token mix,
error rate, latency) are missing there. A bucket is judged only once it is complete (its end at or before `now`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from costwarden.errors import WarehouseError
from models.anomaly.settings import AnomalySettings

ADDITIVE = ("spend", "requests", "tokens")
MONEY = ("spend", "cost_per_request", "cost_per_1k_tokens", "cost_per_run")
RATES = ("output_input_ratio", "cache_hit_rate", "error_rate", "p95_latency_ms", "jitter")
LATENCY = ("p95_latency_ms", "jitter")
# Token-mix series whose $ impact is their effect in the root-cause decomposition.
MIX_EFFECT = {"cache_hit_rate": "cache_hit", "output_input_ratio": "token_mix"}
SCOPE_COLUMNS = {"department": "department", "team": "team", "agent": "agent", "model": "model",
                 "account": "account_id"}
GRAIN_STEP = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
MEASURES = ["requests", "errors", "runs", "input_side", "output_tokens", "cache_read_tokens", "tokens", "cost",
            "p50_latency_ms", "p95_latency_ms", "p99_latency_ms"]


def series_key(metric: str, grain: str, scope_kind: str, scope_value: str, currency: str = "USD") -> str:
    name = metric if currency in ("USD", "", None) else f"{metric}:{currency}"
    scope = "all" if scope_kind == "all" else f"{scope_kind}={scope_value}"
    return f"{name}|{grain}|{scope}"


@dataclass
class WarehouseSeries:
    """Series to judge and what is known about each (metric, grain, scope, currency, aggregate)."""

    frame: pd.DataFrame          # series_id, timestamp (UTC), value
    catalog: pd.DataFrame        # series_id, metric, grain, scope_kind, scope_value, currency, aggregate
    measures: pd.DataFrame       # grain, scope_kind, scope_value, timestamp, MEASURES (request-based, USD cost)
    skipped_low_volume: int
    now: datetime


def _request_measures(con, grain: str, scopes: list[str], since: datetime, until: datetime) -> pd.DataFrame:
    bucket = f"date_trunc('{grain}', occurred_at)"
    parts = []
    for kind in scopes:
        column = "''" if kind == "all" else f"coalesce({SCOPE_COLUMNS[kind]}, '')"
        parts.append(f"""
        select '{grain}' as grain, '{kind}' as scope_kind, {column} as scope_value, {bucket} as timestamp,
               count(*) as requests,
               count(*) filter (where status = 'error') as errors,
               count(distinct coalesce(trace_id, request_id)) as runs,
               sum(coalesce(total_input_tokens, 0)) as input_side,
               sum(coalesce(output_tokens, 0)) as output_tokens,
               sum(coalesce(cache_read_tokens, 0)) as cache_read_tokens,
               sum(coalesce(total_input_tokens, 0) + coalesce(output_tokens, 0)) as tokens,
               sum(coalesce(estimated_cost, 0)) as cost,
               percentile_cont(0.5) within group (order by latency_ms) as p50_latency_ms,
               percentile_cont(0.95) within group (order by latency_ms) as p95_latency_ms,
               percentile_cont(0.99) within group (order by latency_ms) as p99_latency_ms
        from intermediate.int_requests_priced
        where occurred_at >= ? and occurred_at < ?
        group by 1, 2, 3, 4""")
    sql = " union all ".join(parts)
    frame = con.execute(sql, [since, until] * len(parts)).df()
    for c in MEASURES:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.tz_localize("UTC")
    return frame[frame["scope_kind"].eq("all") | frame["scope_value"].ne("")]


def _daily_spend(con, scopes: list[str], since: datetime, until: datetime) -> pd.DataFrame:
    parts = []
    for kind in scopes:
        if kind == "account":          # allocated_cost has no account; account spend comes from requests
            continue
        column = "''" if kind == "all" else f"coalesce({SCOPE_COLUMNS[kind]}, '')"
        parts.append(f"""
        select '{kind}' as scope_kind, {column} as scope_value, billing_currency as currency,
               cast(day as timestamp) as timestamp,
               sum(case when cost_kind = 'estimated_unbilled' then coalesce(estimated_cost, 0)
                        else coalesce(billed_cost, 0) end) as value
        from marts.allocated_cost
        where day >= cast(? as date) and day < cast(? as date)
          and cost_kind <> 'shared_overhead'
        group by 1, 2, 3, 4""")
    if not parts:
        return pd.DataFrame(columns=["scope_kind", "scope_value", "currency", "timestamp", "value"])
    frame = con.execute(" union all ".join(parts), [since, until] * len(parts)).df()
    frame["value"] = pd.to_numeric(frame["value"]).astype(float)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.tz_localize("UTC")
    # Costs that belong to no team or agent (idle, overhead, unallocated) are in scope `all` only.
    return frame[frame["scope_kind"].eq("all") | ~frame["scope_value"].isin(["", "__idle__", "__shared__",
                                                                            "__unallocated__"])]


def _metric_values(m: pd.DataFrame) -> dict[str, pd.Series]:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = lambda a, b: (m[a] / m[b]).where(m[b] > 0)  # noqa: E731
        return {
            "spend": m["cost"], "requests": m["requests"], "tokens": m["tokens"],
            "cost_per_request": ratio("cost", "requests"),
            "cost_per_1k_tokens": 1000 * ratio("cost", "tokens"),
            "cost_per_run": ratio("cost", "runs"),
            "output_input_ratio": ratio("output_tokens", "input_side"),
            "cache_hit_rate": ratio("cache_read_tokens", "input_side"),
            "error_rate": ratio("errors", "requests"),
            "p95_latency_ms": m["p95_latency_ms"].where(m["requests"] > 0),
            "jitter": ratio("p99_latency_ms", "p50_latency_ms"),
        }


def _dense(measures: pd.DataFrame, step: timedelta, last_bucket: pd.Timestamp) -> pd.DataFrame:
    """Every bucket from a scope's first request to `last_bucket`, zero-filled (no requests = zero of each)."""
    out = []
    for (kind, value), group in measures.groupby(["scope_kind", "scope_value"], sort=True):
        index = pd.date_range(group["timestamp"].min(), last_bucket, freq=step)
        if len(index) == 0:
            continue
        dense = group.set_index("timestamp").reindex(index)
        additive = [c for c in MEASURES if not c.endswith("latency_ms")]
        dense[additive] = dense[additive].fillna(0.0)
        dense["scope_kind"], dense["scope_value"] = kind, value
        out.append(dense.rename_axis("timestamp").reset_index())
    if not out:
        return measures.iloc[0:0]
    return pd.concat(out, ignore_index=True)


def _require_built(con) -> None:
    present = {name for (name,) in con.execute(
        "select table_schema || '.' || table_name from information_schema.tables").fetchall()}
    missing = [r for r in ("intermediate.int_requests_priced", "marts.allocated_cost") if r not in present]
    if missing:
        raise WarehouseError(f"the warehouse has no {', '.join(missing)} yet: load data with `costwarden ingest` and "
                             "run `costwarden build` first (or try `costwarden detect --series FILE.csv`).")


def load_series(con, settings: AnomalySettings, now: datetime | None = None) -> WarehouseSeries:
    _require_built(con)
    latest = con.execute("select max(occurred_at) from intermediate.int_requests_priced").fetchone()[0]
    if now is None:
        # The data is taken as complete through the day of the newest request (a daily delivery).
        now = (pd.Timestamp(latest).normalize() + pd.Timedelta(days=1)).to_pydatetime() if latest else datetime.now()
    now_ts = pd.Timestamp(now).tz_localize(None) if pd.Timestamp(now).tzinfo is None else \
        pd.Timestamp(now).tz_convert("UTC").tz_localize(None)
    since = (now_ts.normalize() - pd.Timedelta(days=settings.lookback_days)).to_pydatetime()
    until = now_ts.to_pydatetime()
    frames, catalogs, measure_frames = [], [], []
    skipped = 0
    plan = [("day", settings.metrics, settings.scopes, settings.min_requests_per_day)]
    if settings.hourly_metrics:
        plan.append(("hour", settings.hourly_metrics, settings.hourly_scopes, settings.min_requests_per_hour))
    for grain, metrics, scopes, min_requests in plan:
        step = GRAIN_STEP[grain]
        # The newest complete bucket: its end is at or before now.
        last_bucket = (pd.Timestamp(now_ts).floor("D" if grain == "day" else "h") - step).tz_localize("UTC")
        raw = _request_measures(con, grain, list(dict.fromkeys(scopes)), since, until)
        dense = _dense(raw, step, last_bucket)
        busy = dense.groupby(["scope_kind", "scope_value"])["requests"].median()
        busy = busy[busy >= min_requests]
        skipped += int((dense.groupby(["scope_kind", "scope_value"]).ngroups - len(busy)) * len(metrics))
        dense = dense.set_index(["scope_kind", "scope_value"]).loc[busy.index].reset_index() if len(busy) else \
            dense.iloc[0:0]
        measure_frames.append(dense.assign(grain=grain))
        values = _metric_values(dense)
        scope_of = pd.MultiIndex.from_frame(dense[["scope_kind", "scope_value"]])
        enough = {"rates": busy[busy >= settings.min_requests_for_rates].index,
                  "latency": busy[busy >= settings.min_requests_for_latency].index}
        for metric in metrics:
            if metric == "spend" and grain == "day":
                continue
            value = values[metric]
            if metric in RATES:
                needed = enough["latency" if metric in LATENCY else "rates"]
                skipped += int(len(busy) - len(needed))
                value = value.where(scope_of.isin(needed))
            part = pd.DataFrame({"scope_kind": dense["scope_kind"], "scope_value": dense["scope_value"],
                                 "timestamp": dense["timestamp"], "value": value})
            part = part.assign(metric=metric, grain=grain, currency="USD")
            frames.append(part)
        if grain == "day" and "spend" in metrics:
            spend = _daily_spend(con, list(dict.fromkeys(scopes)), since, until)
            spend = spend[spend["timestamp"] <= last_bucket]
            # Spend of scopes with too few requests is still judged when it is mostly non-zero (direct costs).
            dense_spend = []
            for (kind, value, currency), group in spend.groupby(["scope_kind", "scope_value", "currency"]):
                index = pd.date_range(group["timestamp"].min(), last_bucket, freq=step)
                series = group.set_index("timestamp")["value"].reindex(index, fill_value=0.0)
                known = (kind, value) in busy.index
                if not known and (kind, value) in dense.groupby(["scope_kind", "scope_value"]).groups:
                    continue
                if not known and (series > 0).mean() < 0.8:
                    skipped += 1
                    continue
                dense_spend.append(pd.DataFrame({
                    "scope_kind": kind, "scope_value": value, "timestamp": index, "value": series.to_numpy(),
                    "metric": "spend", "grain": grain, "currency": currency}))
            frames += dense_spend
    measures = pd.concat(measure_frames, ignore_index=True) if measure_frames else pd.DataFrame()
    if not frames:
        empty = pd.DataFrame({"series_id": pd.Series(dtype=object), "timestamp": pd.Series(dtype="datetime64[ns, UTC]"),
                              "value": pd.Series(dtype=float)})
        return WarehouseSeries(empty, pd.DataFrame(columns=["series_id", "metric", "grain", "scope_kind",
                                                            "scope_value", "currency", "aggregate"]),
                               measures, skipped, now_ts.to_pydatetime())
    long = pd.concat(frames, ignore_index=True)
    long["series_id"] = [series_key(m, g, k, v, c) for m, g, k, v, c in
                         long[["metric", "grain", "scope_kind", "scope_value", "currency"]].itertuples(index=False)]
    long = long[long["value"].notna()]
    catalog = long.drop_duplicates("series_id")[["series_id", "metric", "grain", "scope_kind", "scope_value",
                                                 "currency"]].reset_index(drop=True)
    catalog["aggregate"] = np.where(catalog["metric"].isin(ADDITIVE), "sum", "mean")
    return WarehouseSeries(long[["series_id", "timestamp", "value"]].reset_index(drop=True), catalog, measures,
                           skipped, now_ts.to_pydatetime())
