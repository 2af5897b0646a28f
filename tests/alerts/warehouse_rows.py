"""Rows for the analytics and mart tables the alert sources read, written into a test warehouse.

analytics.* tables come from sql/schema (the contract); the marts and intermediate tables are created here with
the columns the sources read (marts.performance_by_model as CONTRACTS.md names it), until their builders land.
"""

from __future__ import annotations

import json
from datetime import date, datetime

DAY = datetime(2026, 10, 30)


def anomaly(con, anomaly_id: str = "an-1", *, status: str = "open", severity: str = "warning",
            alertable: bool = True, suppressed_by: str | None = None, start_at: datetime = datetime(2026, 10, 29),
            end_at: datetime | None = None, last_point_at: datetime = DAY, team: str = "growth",
            department: str = "marketing", agent: str | None = "campaign-writer", model: str | None = None,
            metric: str = "spend", root_cause: str = "volume: agent=campaign-writer", drivers: list | None = None,
            impact_cost: str = "1234.5") -> None:
    drivers = drivers if drivers is not None else [
        {"name": "agent=campaign-writer", "effect": "volume", "impact_cost": 1100.25},
        {"name": "model=claude-3-5-sonnet", "effect": "mix", "impact_cost": 90.1},
        {"name": "region=us-east-1", "effect": "volume", "impact_cost": 30},
        {"name": "environment=prod", "effect": "volume", "impact_cost": 14.15}]
    con.execute("delete from analytics.anomalies where anomaly_id = ?", [anomaly_id])
    con.execute("""insert into analytics.anomalies (anomaly_id, series_key, metric, grain, scope_kind, scope_value,
        department, team, agent, model, currency, start_at, end_at, status, first_alert_at, last_point_at, expected,
        actual, lower_band, upper_band, impact, impact_cost, impact_pct, score, severity, alertable, suppressed_by,
        root_cause, drivers, detected_at, history_status)
        values (?, ?, ?, 'day', 'team', ?, ?, ?, ?, ?, 'USD', ?, ?, ?, ?, ?, 400.0, 1634.5, 300, 500, 1234.5, ?,
                308.625, 9.1, ?, ?, ?, ?, ?, ?, 'ok')""",
                [anomaly_id, f"{metric}|day|team={team}", metric, team, department, team, agent, model, start_at,
                 end_at, status, start_at, last_point_at, impact_cost, severity, alertable, suppressed_by, root_cause,
                 json.dumps(drivers), last_point_at])


def crossing(con, budget: str = "growth-monthly", threshold: float = 80, basis: str = "actual",
             crossed_on: date = date(2026, 10, 24), team: str = "growth") -> None:
    con.execute("""insert into analytics.budget_crossings values (?, date '2026-10-01', ?, ?, 'marketing', ?, null,
                   'USD', 10000, ?, ?, ?)""",
                [budget, threshold, basis, team, 8000 if basis == "actual" else 10400, crossed_on,
                 datetime.combine(crossed_on, datetime.min.time()).replace(hour=6)])
    con.execute("""insert into analytics.budget_status values (?, 'team', ?, 'marketing', ?, null, 'monthly',
                   date '2026-10-01', date '2026-10-31', 'USD', 10000, 8000, 10400, 9800, 11000, 80.0, 104.0,
                   date '2026-10-29', ?, now())""", [budget, team, team, crossed_on])


def performance_by_model(con, rows: list[tuple]) -> None:
    """rows: (day, provider, model, requests, p50, p99)."""
    con.execute("create schema if not exists marts")
    con.execute("""create table if not exists marts.performance_by_model (day date, provider varchar, model varchar,
        model_version varchar, requests bigint, errors bigint, error_rate double, p50_latency_ms double,
        p95_latency_ms double, p99_latency_ms double, p50_ttft_ms double, p95_ttft_ms double, p99_ttft_ms double,
        jitter double, cost decimal(38, 10))""")
    for day, provider, model, requests, p50, p99 in rows:
        con.execute("""insert into marts.performance_by_model values (?, ?, ?, null, ?, 0, 0, ?, ?, ?, null, null,
                       null, ?, 0)""", [day, provider, model, requests, p50, (p50 + p99) / 2, p99, p99 / p50])
