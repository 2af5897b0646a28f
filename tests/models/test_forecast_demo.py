"""Forecasts and budgets on the demo company (a copy: these tests write)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models.forecast import run_forecast


@pytest.mark.slow
def test_demo_budgets_cross_where_the_incidents_are(demo_company, tmp_path):
    company = demo_company.copy_to(tmp_path / "acme")
    settings = company.settings()
    assert {b.name for b in settings.budgets} == {"growth-monthly", "fraud-explainer-monthly", "product-quarterly"}
    crossings = []
    day = date(2026, 8, 10)
    while day <= date(2026, 9, 30):     # a run every third day, as a late-running daily job would
        crossings += run_forecast(settings, company.warehouse, as_of=day).new_crossings
        day += timedelta(days=3)
    fired = {(c.budget_name, c.period.label, c.basis, c.threshold_pct) for c in crossings}
    # growth's one-day backfill in August (INC-001) lifts its month-end forecast past 80% of its budget.
    assert ("growth-monthly", "2026-08", "forecast", 80.0) in fired
    # fraud-explainer's model rollout (INC-005, mid-September) exhausts its budget; August, before it, does not.
    assert ("fraud-explainer-monthly", "2026-09", "actual", 100.0) in fired
    assert not any(name == "fraud-explainer-monthly" and period == "2026-08" and pct >= 80
                   for name, period, _basis, pct in fired)
    # Each crossing once.
    assert len(crossings) == len(fired)
    again = run_forecast(settings, company.warehouse, as_of=date(2026, 9, 30))
    assert again.new_crossings == []
    runway = {s.budget.name: s.runway for s in again.statuses if s.period.label == "2026-09"}
    assert runway["fraud-explainer-monthly"] is not None and runway["fraud-explainer-monthly"] > date(2026, 9, 16)
