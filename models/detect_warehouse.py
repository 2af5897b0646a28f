"""`costwarden detect` on the warehouse: judge every series the marts define, explain the anomalies in LLM terms,
apply the gates, planned events and people's feedback, and store analytics.anomalies and analytics.anomaly_points.

Every run re-judges the lookback window causally (each point only with the points before it), so re-running gives
the same verdicts and an anomaly's start never moves: anomaly_id = hash(series_key, start) is stable, an ongoing
anomaly updates its row, and an incident that resumes within the merge gap is the same anomaly (same id).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase

import numpy as np
import pandas as pd

from costwarden import db
from models.anomaly import AnomalyDetector
from models.anomaly.explain import COST_METRICS, explain
from models.anomaly.gates import Gate
from models.anomaly.settings import AnomalySettings
from models.anomaly.warehouse_series import MIX_EFFECT, MONEY, WarehouseSeries, load_series
from models.anomaly_feedback import latest_verdicts

ANOMALY_TABLE_COLUMNS = [
    "anomaly_id", "series_key", "metric", "grain", "scope_kind", "scope_value", "department", "team", "agent",
    "model", "currency", "start_at", "end_at", "status", "first_alert_at", "last_point_at", "expected", "actual",
    "lower_band", "upper_band", "impact", "impact_cost", "impact_pct", "score", "severity", "alertable",
    "suppressed_by", "root_cause", "drivers", "detected_at", "history_status"]


@dataclass
class DetectReport:
    series: int = 0
    skipped_low_volume: int = 0
    anomalies: int = 0
    alertable: int = 0
    open_alertable: int = 0
    suppressed: int = 0
    short_history: int = 0
    seconds: float = 0.0
    now: datetime | None = None
    top: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"detect: judged {self.series} series up to {self.now:%Y-%m-%d %H:%M} UTC in {self.seconds:.1f}s "
                 f"({self.skipped_low_volume} skipped for low volume); {self.anomalies} anomalies, "
                 f"{self.alertable} above the alert gates ({self.open_alertable} open), {self.suppressed} suppressed "
                 "by feedback or planned events"]
        if self.short_history:
            lines.append(f"  {self.short_history} series are still short of the minimum history: they cannot alert "
                         "yet (see analytics.anomalies.history_status)")
        lines += [f"  {line}" for line in self.top]
        return "\n".join(lines)


def anomaly_id(series_key: str, start: pd.Timestamp) -> str:
    text = f"{series_key}|{pd.Timestamp(start).strftime('%Y-%m-%dT%H:%M:%S')}"
    return "A-" + hashlib.sha1(text.encode()).hexdigest()[:16]


# Spend, requests and tokens of one agent can be a handful a day, with quiet weekends near zero. The asinh scale is
# log-like above its offset and linear below it; an offset of half the typical value (instead of 5%) keeps the
# Poisson noise of a few requests, and of near-empty weekends, from counting as large relative changes.
COUNT_OFFSET_FRACTION = 0.5


def _detector(settings: AnomalySettings, aggregate: str) -> AnomalyDetector:
    extra = {"offset_frac": COUNT_OFFSET_FRACTION} if aggregate == "sum" else {}
    return AnomalyDetector(holidays=tuple(settings.holidays), month_days=tuple(settings.month_start_days),
                           min_history_days=settings.min_history_days, aggregate=aggregate, **extra)


def _run_detectors(settings: AnomalySettings, series: WarehouseSeries):
    found, points, status = [], [], []
    for aggregate in ("sum", "mean"):
        ids = series.catalog.loc[series.catalog["aggregate"] == aggregate, "series_id"]
        frame = series.frame[series.frame["series_id"].isin(ids)]
        if frame.empty:
            continue
        detector = _detector(settings, aggregate)
        anomalies, scored = detector.fit(None).detect_with_points(frame)
        found.append(anomalies)
        points.append(scored)
        status.append(detector.series_status_)
    nonempty = lambda parts: pd.concat([p for p in parts if not p.empty], ignore_index=True) \
        if any(not p.empty for p in parts) else None  # noqa: E731
    return nonempty(found), nonempty(points), nonempty(status)


def _interval_totals(measures: pd.DataFrame, row) -> dict:
    part = measures[(measures["grain"] == row.grain) & (measures["scope_kind"] == row.scope_kind)
                    & (measures["scope_value"] == row.scope_value) & (measures["timestamp"] >= row.start)
                    & (measures["timestamp"] <= row.end)]
    return {c: float(part[c].sum()) for c in ("requests", "tokens", "cost", "runs")}


def _impact_cost(row, totals: dict) -> float | None:
    """The anomaly's impact in $: spend directly; volume at the interval's unit cost; a unit cost change times the
    volume it applied to. None for series that are not money (error rate, latency, token mix)."""
    metric = row.metric
    if metric == "spend":
        return row.impact
    unit = lambda a, b: totals[a] / totals[b] if totals[b] else 0.0  # noqa: E731
    if metric == "requests":
        return row.impact * unit("cost", "requests")
    if metric == "tokens":
        return row.impact * unit("cost", "tokens")
    if metric == "cost_per_request":
        return row.impact * totals["requests"]
    if metric == "cost_per_1k_tokens":
        return row.impact * totals["tokens"] / 1000
    if metric == "cost_per_run":
        return row.impact * totals["runs"]
    return None


def _gate_for(settings: AnomalySettings, key: str, has_money: bool) -> Gate:
    matches = [g for g in settings.gates if fnmatchcase(key, g.scope)]
    if matches:
        chosen = max(matches, key=lambda g: len(g.scope.replace("*", "")) * 1000 + len(g.scope))
        return Gate(chosen.min_impact_usd if has_money else None, chosen.min_impact_pct, chosen.require)
    if has_money:
        return Gate(settings.min_impact_usd, settings.min_impact_pct, "all")
    return Gate(None, settings.rate_min_impact_pct, "all")


RUN_RATE_METRICS = ("cost_per_request", "cost_per_1k_tokens", "cost_per_run", "cache_hit_rate", "output_input_ratio")


def _run_rate_impact(settings: AnomalySettings, row, impact_cost: float | None) -> float | None:
    """The $ the gate sees: the impact so far, or for a unit-cost or mix change that has persisted
    `run_rate_min_periods`, its $ per period projected over `run_rate_days` if larger (a new run rate)."""
    metric = row.metric.split(":")[0]
    if impact_cost is None or metric not in RUN_RATE_METRICS or int(row.n_points) < settings.run_rate_min_periods:
        return impact_cost
    periods = pd.Timedelta(days=settings.run_rate_days) / pd.Timedelta(hours=1 if row.grain == "hour" else 24)
    projected = impact_cost / int(row.n_points) * periods
    return projected if abs(projected) > abs(impact_cost) else impact_cost


GOOD_NEWS_WHEN_DOWN = ("error_rate", "p95_latency_ms", "jitter")
LATENCY_METRICS = ("p95_latency_ms", "jitter")


def _persistent_and_bad_news(settings: AnomalySettings, row) -> bool:
    """Fewer errors and faster calls are good news: visible, never paged. Latency and jitter page only when the
    change persists (`latency_min_periods`): a single day's p95 is a handful of calls at the tail."""
    metric = row.metric.split(":")[0]
    if metric in GOOD_NEWS_WHEN_DOWN and row.impact < 0:
        return False
    if metric in LATENCY_METRICS and int(row.n_points) < settings.latency_min_periods:
        return False
    return True


def _past_settling(settings: AnomalySettings, row, history: pd.DataFrame, key: str) -> bool:
    """In a series' first `settling_days` of alerting, only a huge change (`settling_min_impact_pct`) pages."""
    if key not in history.index or settings.settling_days <= 0:
        return True
    since = history.loc[key].get("alerts_possible_from")
    if since is None or pd.isna(since):
        return True
    naive = lambda t: pd.Timestamp(t).tz_convert(None) if pd.Timestamp(t).tzinfo else pd.Timestamp(t)  # noqa: E731
    if naive(row.start) >= naive(since) + pd.Timedelta(days=settings.settling_days):
        return True
    return pd.notna(row.impact_pct) and abs(row.impact_pct) >= settings.settling_min_impact_pct


def _planned(settings: AnomalySettings, key: str, start: pd.Timestamp, end: pd.Timestamp) -> str | None:
    for event in settings.planned_events:
        lo, hi = (pd.Timestamp(t).tz_localize("UTC") if pd.Timestamp(t).tzinfo is None else
                  pd.Timestamp(t).tz_convert("UTC") for t in (event.start, event.end))
        if fnmatchcase(key, event.scope) and start <= hi and end >= lo:
            return f"planned:{event.name}"
    return None


def _org(con) -> dict[tuple[str, str], dict]:
    """Department / team of each team, agent and model scope value, for the rows' scope columns."""
    rows = con.execute("""select distinct coalesce(department, '') d, coalesce(team, '') t, coalesce(agent, '') a
                          from intermediate.int_requests_priced""").fetchall()
    org = {}
    for d, t, a in rows:
        org[("team", t)] = {"department": d or None, "team": t or None}
        org[("agent", a)] = {"department": d or None, "team": t or None, "agent": a or None}
    return org


def _severity(alertable: bool, detector_severity: str) -> str:
    if not alertable:
        return "info"
    return "critical" if detector_severity == "critical" else "warning"


def build_rows(con, settings: AnomalySettings, series: WarehouseSeries, found: pd.DataFrame,
               status: pd.DataFrame, detected_at: datetime) -> pd.DataFrame:
    if found is None or found.empty:
        return pd.DataFrame(columns=ANOMALY_TABLE_COLUMNS)
    table = found.merge(series.catalog, left_on="series_id", right_on="series_id", how="left")
    last_point = series.frame.groupby("series_id")["timestamp"].max()
    history = status.set_index("series_id")
    verdicts = latest_verdicts(con)
    org = _org(con)
    explained: dict[tuple, object] = {}
    rows = []
    for row in table.itertuples(index=False):
        key = row.series_id
        aid = anomaly_id(key, row.start)
        has_money = row.metric.split(":")[0] in MONEY or row.metric in ("requests", "tokens")
        totals = _interval_totals(series.measures, row)
        impact_cost = _impact_cost(row, totals) if has_money else None
        why = None
        if pd.notna(row.first_alert_at):
            # Many series of one scope flag the same interval (spend, tokens, unit costs): explain it once.
            family = "cost" if row.metric in COST_METRICS else row.metric
            cache_key = (row.scope_kind, row.scope_value, row.grain, row.start, row.end, family,
                         row.metric if row.metric == "spend" else "", row.impact >= 0)
            if cache_key not in explained:
                explained[cache_key] = explain(con, row, row.grain, row.metric)
            why = explained[cache_key]
        if row.metric in MIX_EFFECT and why is not None and why.drivers:
            effect = [d for d in json.loads(why.drivers) if d.get("effect") == MIX_EFFECT[row.metric]]
            impact_cost = effect[0]["impact_cost"] if effect else None
        gate = _gate_for(settings, key, impact_cost is not None)
        gated_cost = _run_rate_impact(settings, row, impact_cost)
        passes = gate.passes(gated_cost if gated_cost is not None else 0.0, row.impact_pct)
        if impact_cost is None:
            floor = settings.rate_min_change.get(row.metric, 0.0)
            passes = passes and abs(row.impact) >= floor
            if row.metric == "error_rate":
                passes = passes and abs(row.impact) * totals["requests"] >= settings.min_extra_errors
        passes = passes and _persistent_and_bad_news(settings, row) and _past_settling(settings, row, history, key)
        suppressed = None
        if aid in verdicts:
            suppressed = f"feedback:{verdicts[aid]}"
        else:
            suppressed = _planned(settings, key, row.start, row.end)
        alertable = bool(pd.notna(row.first_alert_at) and passes and suppressed is None)
        scope = {"department": None, "team": None, "agent": None, "model": None}
        if row.scope_kind == "department":
            scope["department"] = row.scope_value
        elif row.scope_kind in ("team", "agent"):
            scope.update(org.get((row.scope_kind, row.scope_value), {row.scope_kind: row.scope_value}))
        elif row.scope_kind == "model":
            scope["model"] = row.scope_value
        state = history.loc[key] if key in history.index else None
        history_status = "ok" if state is None or bool(state["min_history_met"]) else (
            f"short history: {int(state['n_points'])} points, alerts need {int(state['min_history_points'])}")
        is_open = row.status == "open"
        rows.append({
            "anomaly_id": aid, "series_key": key, "metric": row.metric.split(":")[0], "grain": row.grain,
            "scope_kind": row.scope_kind, "scope_value": row.scope_value if row.scope_kind != "all" else "",
            **scope, "currency": row.currency if impact_cost is not None else None,
            "start_at": row.start.tz_localize(None), "end_at": None if is_open else row.end.tz_localize(None),
            "status": "open" if is_open else "resolved",
            "first_alert_at": None if pd.isna(row.first_alert_at) else row.first_alert_at.tz_localize(None),
            "last_point_at": last_point[key].tz_localize(None), "expected": row.expected, "actual": row.actual,
            "lower_band": row.expected_low, "upper_band": row.expected_high, "impact": row.impact,
            "impact_cost": None if impact_cost is None else round(impact_cost, 6), "impact_pct": row.impact_pct,
            "score": row.score, "severity": _severity(alertable, row.severity), "alertable": alertable,
            "suppressed_by": suppressed, "root_cause": why.root_cause if why else None,
            "drivers": why.drivers if why else None, "detected_at": detected_at, "history_status": history_status})
    return pd.DataFrame(rows, columns=ANOMALY_TABLE_COLUMNS)


def _point_rows(points: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"series_key": points["series_id"].astype(str), "ts": points["timestamp"],
                        "actual": points["value"], "expected": points["expected"], "lower_band": points["lower"],
                        "upper_band": points["upper"], "flagged": points["flagged"].astype(bool)})
    out["anomaly_id"] = None
    if not rows.empty:
        spans = rows[["series_key", "anomaly_id", "start_at", "end_at", "last_point_at"]].copy()
        spans["end"] = spans["end_at"].fillna(spans["last_point_at"])
        merged = out.drop(columns="anomaly_id").reset_index().merge(spans, on="series_key", how="inner")
        ts = merged["ts"].dt.tz_localize(None)
        inside = merged[(ts >= merged["start_at"]) & (ts <= merged["end"])]
        out.loc[inside["index"].to_numpy(), "anomaly_id"] = inside["anomaly_id"].to_numpy()
    out["ts"] = out["ts"].dt.tz_localize(None)
    return out


def store(con, rows: pd.DataFrame, points: pd.DataFrame, since: datetime) -> None:
    """Replace the anomalies that start inside the lookback window (older ones stay: they are history) and all
    points. A series no longer judged (settings changed, volume fell) loses its in-window rows with it."""
    with db.transaction(con):
        con.execute("delete from analytics.anomalies where start_at >= ?", [since])
        if not rows.empty:
            con.register("new_anomalies", rows)
            con.execute("delete from analytics.anomalies where anomaly_id in (select anomaly_id from new_anomalies)")
            con.execute(f"insert into analytics.anomalies ({', '.join(ANOMALY_TABLE_COLUMNS)}) "
                        f"select {', '.join(ANOMALY_TABLE_COLUMNS)} from new_anomalies")
            con.unregister("new_anomalies")
        con.execute("delete from analytics.anomaly_points")
        if not points.empty:
            con.register("new_points", points)
            con.execute("""insert into analytics.anomaly_points
                           select series_key, ts, actual, expected, lower_band, upper_band, flagged, anomaly_id
                           from new_points""")
            con.unregister("new_points")


def detect_warehouse(settings, warehouse: str, now: datetime | None = None) -> DetectReport:
    """Judge the warehouse's series up to `now` (default: through the day of the newest request) and store the
    anomalies; returns a report with .summary()."""
    started = time.perf_counter()
    anomaly_settings: AnomalySettings = settings.anomaly
    con = db.connect(warehouse)
    try:
        series = load_series(con, anomaly_settings, now)
        report = DetectReport(series=int(series.catalog.shape[0]), skipped_low_volume=series.skipped_low_volume,
                              now=series.now)
        found, points, status = _run_detectors(anomaly_settings, series)
        detected_at = datetime.utcnow().replace(microsecond=0)
        if status is None:
            status = pd.DataFrame(columns=["series_id", "min_history_met", "n_points", "min_history_points"])
        rows = build_rows(con, anomaly_settings, series, found, status, detected_at)
        point_rows = _point_rows(points, rows) if points is not None else pd.DataFrame()
        since = (pd.Timestamp(series.now) - pd.Timedelta(days=anomaly_settings.lookback_days)).to_pydatetime()
        store(con, rows, point_rows, since)
    finally:
        con.close()
    report.anomalies = len(rows)
    report.alertable = int(rows["alertable"].sum()) if len(rows) else 0
    report.open_alertable = int((rows["alertable"] & (rows["status"] == "open")).sum()) if len(rows) else 0
    report.suppressed = int(rows["suppressed_by"].notna().sum()) if len(rows) else 0
    report.short_history = int((~status["min_history_met"].astype(bool)).sum()) if len(status) else 0
    paged = rows[rows["alertable"]].sort_values("impact_cost", key=lambda s: -s.abs().fillna(0)) if len(rows) else rows
    report.top = [f"{r.series_key} from {r.start_at:%Y-%m-%d %H:%M}: {r.impact_pct:+.0f}%"
                  + (f" (${r.impact_cost:,.2f})" if pd.notna(r.impact_cost) else "")
                  + (f" - {r.root_cause}" if r.root_cause else "") for r in paged.head(10).itertuples()]
    report.seconds = time.perf_counter() - started
    return report
