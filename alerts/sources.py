"""Events from the warehouse: what the models and marts found, turned into alert events. Reads only, except the
anomaly transition log (alerts.anomaly_transitions).

- anomalies: analytics.anomalies rows that passed the detector's gates (alertable) and nobody suppressed. A row is
  one anomaly's current state; its changes (opened, escalated to a higher severity, resolved, reopened) are
  recorded once in alerts.anomaly_transitions, and every run rebuilds the events from that log. So the same change
  always yields the same event key, and routing (which remembers what it sent) never sends it twice.
- budgets: analytics.budget_crossings, each (budget, period, threshold, basis) crossing recorded once by forecast.
- data health: sources with no new data for too long (meta.loads), requests whose model has no price
  (intermediate.int_requests_priced), an unallocated share above a threshold (marts.allocated_cost), quarantined
  rows (meta.loads, meta.quarantine).
- latency: days where a model's jitter (p99 / p50 latency, marts.performance_by_model) is above its SLO.

A relation that does not exist yet (models not run, marts not built) skips its check with a note, never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

import duckdb

from alerts.events import (AnomalyEvent, BudgetEvent, DataHealthEvent, Driver, Event, LatencyEvent, Scope,
                           severity_rank)
from alerts.routing import utc
from alerts.settings import AlertSettings
from costwarden.db import transaction

MONEY_METRICS = {"spend", "cost_per_request", "cost_per_1k_tokens", "cost_per_run"}
UNITS = {"requests": "requests", "tokens": "tokens", "p95_latency_ms": "ms", "jitter": "x"}


@dataclass
class Collected:
    events: list[Event] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)      # checks skipped, and why

    def add(self, events: Iterable[Event]) -> None:
        self.events.extend(events)


def exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, name = relation.split(".")
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = ? and "
                            "table_name = ?", [schema, name]).fetchone()[0])


def collect(con: duckdb.DuckDBPyConnection, settings: AlertSettings, now: datetime,
            configured_sources: Iterable[str] = ()) -> Collected:
    """Every alertable event the warehouse holds now, in a stable order."""
    found = Collected()
    checks = [("analytics.anomalies", lambda: anomaly_events(con, settings, now)),
              ("analytics.budget_crossings", lambda: budget_events(con, settings)),
              ("meta.loads", lambda: stale_sources(con, settings, now, list(configured_sources))),
              ("meta.loads", lambda: quarantined_rows(con, settings, now)),
              ("intermediate.int_requests_priced", lambda: unpriced_models(con, settings, now)),
              ("marts.allocated_cost", lambda: unallocated_share(con, settings, now)),
              ("marts.performance_by_model", lambda: latency_events(con, settings))]
    for relation, check in checks:
        if exists(con, relation):
            found.add(check())
        elif f"{relation} " not in " ".join(found.notes):
            found.notes.append(f"{relation} does not exist yet: its checks were skipped")
    found.events.sort(key=lambda e: (utc(e.detected_at), e.event_key))
    return found


def _naive(moment: datetime) -> datetime:
    return utc(moment).replace(tzinfo=None)


def _decimal(value, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP) if value is not None else Decimal(0)


# ---- anomalies ---------------------------------------------------------------------------------------------------

def anomaly_events(con: duckdb.DuckDBPyConnection, settings: AlertSettings, now: datetime) -> list[AnomalyEvent]:
    cursor = con.execute("""
        with newest as (select max(last_point_at) as at from analytics.anomalies)
        select anomaly_id, metric, grain, department, team, agent, model, currency, start_at, end_at, status,
               expected, actual, impact, impact_cost, impact_pct, severity, root_cause, drivers
        from analytics.anomalies, newest
        where alertable and suppressed_by is null
          and coalesce(end_at, last_point_at) >= newest.at - to_days(cast(? as integer))
        order by anomaly_id""", [settings.lookback_days])
    names = [column[0] for column in cursor.description]
    anomalies = [dict(zip(names, row)) for row in cursor.fetchall()]
    record_transitions(con, anomalies, now)
    log = con.execute("""select anomaly_id, occurrence, kind, severity, recorded_at from alerts.anomaly_transitions
                         order by anomaly_id, occurrence, recorded_at, kind""").fetchall()
    by_id: dict[str, list[tuple]] = {}
    for row in log:
        by_id.setdefault(row[0], []).append(row)
    events = []
    for anomaly in anomalies:
        transitions = by_id.get(anomaly["anomaly_id"], [])
        opened_at = {occ: at for _, occ, kind, _, at in transitions if kind == "opened"}
        for _, occurrence, kind, severity, recorded_at in transitions:
            # An anomaly first seen already over is one "opened" message that says when it ended, not two.
            if kind == "resolved" and opened_at.get(occurrence) == recorded_at:
                continue
            events.append(_anomaly_event(anomaly, kind, severity, occurrence, recorded_at))
    return events


def record_transitions(con: duckdb.DuckDBPyConnection, anomalies: list[dict], now: datetime) -> None:
    """Append the state changes not yet in the log: the one place anomaly events are decided."""
    log: dict[str, list[tuple]] = {}
    for anomaly_id, occurrence, kind, severity in con.execute(
            "select anomaly_id, occurrence, kind, severity from alerts.anomaly_transitions").fetchall():
        log.setdefault(anomaly_id, []).append((occurrence, kind, severity))
    new = []
    for anomaly in anomalies:
        anomaly_id, severity, resolved = anomaly["anomaly_id"], anomaly["severity"], anomaly["status"] == "resolved"
        seen = log.get(anomaly_id, [])
        occurrence = max((o for o, _, _ in seen), default=0)
        current = [(kind, sev) for o, kind, sev in seen if o == occurrence]
        if not current:
            new.append((anomaly_id, occurrence, "opened", severity))
            if resolved:
                new.append((anomaly_id, occurrence, "resolved", severity))
            continue
        if any(kind == "resolved" for kind, _ in current):
            if not resolved:                   # it came back: a new occurrence, paged again
                new.append((anomaly_id, occurrence + 1, "opened", severity))
            continue
        if severity_rank(severity) > max(severity_rank(sev) for _, sev in current):
            new.append((anomaly_id, occurrence, "escalated", severity))
        if resolved:
            new.append((anomaly_id, occurrence, "resolved", severity))
    if new:
        with transaction(con):
            con.executemany("insert into alerts.anomaly_transitions values (?, ?, ?, ?, ?) on conflict do nothing",
                            [[*row, _naive(now)] for row in new])


# Dimensions that restate another driver (a model's version, the token types of its tokens): not shown as drivers.
_ECHO_DIMENSIONS = {"model_version", "token_type"}


def _drivers(raw) -> tuple[Driver, ...]:
    """Who changed (agent=, model=, team= ... from the decomposition by dimension), largest $ first, then how
    (the effects: volume, model_mix, price ...). Messages show the first three."""
    if not raw:
        return ()
    items = json.loads(raw) if isinstance(raw, str) else raw
    who, how = [], []
    for item in items or []:
        name = str(item.get("name", ""))
        if item.get("dimension") in _ECHO_DIMENSIONS:
            continue
        effect = item.get("effect")
        if item.get("dimension") or "=" in name:
            who.append(Driver(name if not effect or effect == name else f"{name} ({effect})",
                              _decimal(item.get("impact_cost"))))
        else:
            how.append(Driver(f"effect: {name}", _decimal(item.get("impact_cost"))))
    rank = lambda d: (-abs(d.impact_usd), d.name)  # noqa: E731
    return tuple(sorted(who, key=rank) + sorted(how, key=rank))


def _anomaly_event(a: dict, kind: str, severity: str, occurrence: int, recorded_at: datetime) -> AnomalyEvent:
    money = a["metric"] in MONEY_METRICS
    unit = (a["currency"] or "USD") if money else UNITS.get(a["metric"], a["metric"])
    impact_money = a["impact_cost"] if a["impact_cost"] is not None else (a["impact"] if money else 0)
    return AnomalyEvent(
        anomaly_id=a["anomaly_id"], kind=kind,
        scope=Scope(a["department"] or "", a["team"] or "", a["agent"] or "", a["model"] or ""),
        series=f"{a['metric']} per {a['grain']}", start=utc(a["start_at"]), detected_at=utc(recorded_at),
        expected_usd=_decimal(a["expected"]), actual_usd=_decimal(a["actual"]), impact_usd=_decimal(impact_money),
        impact_pct=_decimal(a["impact_pct"], "0.1"), severity=severity, drivers=_drivers(a["drivers"]),
        root_cause=a["root_cause"] or "", unit=unit, occurrence=occurrence,
        end=utc(a["end_at"]) if a["end_at"] is not None and a["status"] == "resolved" else None)


# ---- budgets -----------------------------------------------------------------------------------------------------

def _period_label(start: date, kind: str | None) -> str:
    if kind == "quarterly":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def _budget_severity(basis: str, threshold: float) -> str:
    if basis == "actual" and threshold >= 100:
        return "critical"
    if threshold >= 100 or (basis == "actual" and threshold >= 80):
        return "warning"
    return "info"


def budget_events(con: duckdb.DuckDBPyConnection, settings: AlertSettings) -> list[BudgetEvent]:
    # analytics.budget_status is created with budget_crossings (sql/schema/analytics.sql); with no status rows yet
    # the left join leaves period kind and runway null.
    rows = con.execute("""
        with newest as (select max(crossed_on) as day from analytics.budget_crossings),
        status as (
            select budget_name, period_start, any_value(period_kind) as period_kind,
                   arg_max(runway_date, as_of) as runway_date
            from analytics.budget_status group by all)
        select c.budget_name, c.period_start, c.threshold_pct, c.basis, c.department, c.team, c.agent, c.currency,
               c.amount, c.value_at_crossing, c.detected_at, s.period_kind, s.runway_date
        from analytics.budget_crossings c left join status s using (budget_name, period_start), newest
        where c.crossed_on >= newest.day - cast(? as integer)
        order by c.detected_at, c.budget_name, c.basis, c.threshold_pct""", [settings.lookback_days]).fetchall()
    events = []
    for (name, start, threshold, basis, dept, team, agent, currency, amount, value, detected, kind,
         runway) in rows:
        events.append(BudgetEvent(
            scope=Scope(dept or "", team or "", agent or ""), period=_period_label(start, kind),
            threshold_pct=_decimal(threshold, "0.1").normalize(), basis=basis, amount_usd=_decimal(value),
            budget_usd=_decimal(amount), detected_at=utc(detected), severity=_budget_severity(basis, threshold),
            runway_date=runway, dashboard_path="/budgets?budget=" + name.replace(" ", "+")))
    return events


# ---- data health -------------------------------------------------------------------------------------------------

def _health(check: str, subject: str, value: Decimal, threshold: Decimal, now: datetime, critical: bool,
            details: tuple[str, ...] = ()) -> DataHealthEvent:
    return DataHealthEvent(check=check, subject=subject, value=value, threshold=threshold, detected_at=utc(now),
                           severity="critical" if critical else "warning", details=details)


def stale_sources(con, settings: AlertSettings, now: datetime, configured: list[str]) -> list[DataHealthEvent]:
    """Sources whose last load that brought new rows (or files) is older than stale_after_hours."""
    limit = settings.health.stale_after_hours
    rows = con.execute("""
        select coalesce(source_name, format) as source, max(finished_at) as last_new
        from meta.loads where status = 'ok' and (rows_loaded > 0 or files_loaded > 0)
        group by 1 order by 1""").fetchall()
    events = []
    for source, last_new in rows:
        if configured and source not in configured:
            continue                    # a source taken out of the config is not "stale"
        hours = Decimal((utc(now) - utc(last_new)).total_seconds() / 3600).quantize(Decimal("0.1"))
        if hours > limit:
            events.append(_health("ingest_stale", source, hours, limit, now, hours > 2 * limit,
                                  (f"last new data {utc(last_new):%Y-%m-%d %H:%M} UTC",)))
    return events


def quarantined_rows(con, settings: AlertSettings, now: datetime) -> list[DataHealthEvent]:
    limit = settings.health.max_quarantined_rows
    since = _naive(now - timedelta(hours=24))
    rows = con.execute("""
        select coalesce(l.source_name, l.format) as source, sum(l.rows_quarantined) as quarantined,
               list(l.load_id) as loads
        from meta.loads l where l.started_at >= ? and l.started_at <= ? group by 1
        having sum(l.rows_quarantined) > ? order by 1""", [since, _naive(now), limit]).fetchall()
    events = []
    for source, quarantined, loads in rows:
        reasons = con.execute("""select reason, count(*) from meta.quarantine where list_contains(?, load_id)
                                 group by 1 order by 2 desc, 1 limit 3""", [loads]).fetchall()
        details = tuple(f"{count} x {reason}" for reason, count in reasons)
        events.append(_health("quarantined_rows", source, Decimal(int(quarantined)), Decimal(limit), now,
                              False, details))
    return events


def unpriced_models(con, settings: AlertSettings, now: datetime) -> list[DataHealthEvent]:
    """Models with requests the price book cannot price, leaving out those a [[capacity]] rule serves (their cost
    is the capacity's hourly bill, split by use; they need no token price)."""
    window = settings.health.unallocated_window_days
    rows = con.execute(r"""
        with newest as (select max(usage_date) as last_day from intermediate.int_requests_priced)
        select r.provider || '/' || r.model, count(*) from intermediate.int_requests_priced r, newest
        where r.price_status = 'unpriced' and r.usage_date > newest.last_day - cast(? as integer)
          and not exists (select 1 from ref.capacity c where r.model_id like c.serves_like escape '\')
        group by 1 order by 2 desc, 1""", [window]).fetchall()
    if not rows:
        return []
    details = tuple(f"{model} ({count:,} requests)" for model, count in rows[:10])
    return [_health("unpriced_models", "price book", Decimal(len(rows)), Decimal(0), now, False, details)]


def unallocated_share(con, settings: AlertSettings, now: datetime) -> list[DataHealthEvent]:
    limit = settings.health.max_unallocated_pct
    rows = con.execute("""
        with newest as (select max(day) as last_day from marts.allocated_cost)
        select billing_currency,
               sum(billed_cost) filter (where cost_kind = 'unallocated') as unallocated,
               sum(billed_cost) as billed
        from marts.allocated_cost, newest
        where day > newest.last_day - cast(? as integer)
        group by 1 order by 1""", [settings.health.unallocated_window_days]).fetchall()
    events = []
    for currency, unallocated, billed in rows:
        if not billed or not unallocated:
            continue
        share = (Decimal(unallocated) / Decimal(billed) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if share > limit:
            details = (f"{_decimal(unallocated)} of {_decimal(billed)} {currency} billed in the last "
                       f"{settings.health.unallocated_window_days} days",)
            events.append(_health("unallocated_share", f"billed cost {currency}", share, limit, now,
                                  share > 2 * limit, details))
    return events


# ---- latency -----------------------------------------------------------------------------------------------------

def latency_events(con, settings: AlertSettings) -> list[LatencyEvent]:
    slo = settings.latency
    rows = con.execute("""
        with newest as (select max(day) as last_day from marts.performance_by_model)
        select day, provider, model, coalesce(model_version, ''), requests, p50_latency_ms, p99_latency_ms, jitter
        from marts.performance_by_model, newest
        where day > newest.last_day - cast(? as integer) and requests >= ? and jitter is not null
        order by day, provider, model""", [slo.lookback_days, slo.min_requests]).fetchall()
    events = []
    for day, provider, model, version, requests, p50, p99, jitter in rows:
        limit = slo.slo_for(model)
        observed = _decimal(jitter)
        if observed <= limit:
            continue
        start = datetime.combine(day, time(), UTC)
        events.append(LatencyEvent(
            scope=Scope(model=model), provider=provider, window_start=start, window_end=start + timedelta(days=1),
            jitter=observed, slo=limit, detected_at=start + timedelta(days=1),
            severity="critical" if observed > 2 * limit else "warning", p50_ms=_decimal(p50, "1"),
            p99_ms=_decimal(p99, "1"), requests=int(requests), model_version=version))
    return events
