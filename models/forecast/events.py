"""Budget threshold crossings as alerts.events.BudgetEvent values, for the alerts side to deliver.

BudgetEvent.event_key is (scope, period, basis, threshold), so even if the same crossing were handed over twice the
outbox would send it once; crossings themselves are recorded once (budgets.record_new_crossings).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import duckdb

from alerts.events import BudgetEvent, Scope
from models.forecast.periods import Period, period_of


def severity_of(threshold_pct: float, basis: str) -> str:
    if threshold_pct >= 100:
        return "critical" if basis == "actual" else "warning"
    return "warning" if threshold_pct >= 80 else "info"


def crossing_events(crossings, detected_at: datetime) -> list[BudgetEvent]:
    """Events for crossings returned by budgets.record_new_crossings (the ones new in this run)."""
    return [_event(c.department, c.team, c.agent, c.period, c.threshold_pct, c.basis, c.value, c.amount,
                   detected_at, c.runway, c.budget_name) for c in crossings]


def budget_events(con: duckdb.DuckDBPyConnection, since: datetime | None = None) -> list[BudgetEvent]:
    """Events for every crossing recorded at or after `since` (all when None), read from the warehouse."""
    rows = con.execute("""
        select c.budget_name, c.period_start, c.threshold_pct, c.basis, c.department, c.team, c.agent,
               c.amount, c.value_at_crossing, c.detected_at, s.period_kind, s.runway_date
        from analytics.budget_crossings as c
        left join analytics.budget_status as s
            on s.budget_name = c.budget_name and s.period_start = c.period_start
        where ? is null or c.detected_at >= ?
        order by c.detected_at, c.budget_name, c.period_start, c.basis, c.threshold_pct
    """, [since, since]).fetchall()
    events = []
    for name, start, pct, basis, dept, team, agent, amount, value, detected, kind, runway in rows:
        period = period_of(start, kind or "monthly")
        events.append(_event(dept, team, agent, period, pct, basis, value, amount, detected, runway, name))
    return events


def _event(department, team, agent, period: Period, threshold_pct, basis, value, amount, detected_at, runway,
           budget_name) -> BudgetEvent:
    scope = Scope(department=department or "", team=team or "", agent=agent or "")
    return BudgetEvent(scope=scope, period=period.label, threshold_pct=Decimal(str(threshold_pct)), basis=basis,
                       amount_usd=Decimal(value), budget_usd=Decimal(amount), detected_at=detected_at,
                       severity=severity_of(float(threshold_pct), basis), runway_date=runway,
                       dashboard_path="/budgets?" + _query(budget_name, period.label))


def _query(name: str, period: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"budget": name, "period": period})
