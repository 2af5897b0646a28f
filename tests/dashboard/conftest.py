"""Dashboard fixtures: the demo company with a few model outputs added (anomalies, budgets, forecasts,
recommendations in two departments), published as a snapshot, and AppTest helpers."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import snapshot
from dashboard.access import Viewer

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")

VIEWERS = {
    "admin": Viewer("admin", "admin"),
    "finance": Viewer("finance", "finance"),
    "product-lead": Viewer("product-lead", "team_lead", departments=("product",)),
    "support-lead": Viewer("support-lead", "team_lead", teams=("support-automation",)),
    "viewer": Viewer("viewer", "viewer"),
}


def _add_model_outputs(warehouse: str) -> None:
    """Rows in the analytics contract for two departments, so scope shows on every page."""
    con = duckdb.connect(warehouse)
    now = datetime(2026, 10, 31, 12)
    for i, (dept, team, severity, impact) in enumerate((("product", "search", "critical", 120.5),
                                                        ("finance", "risk-models", "warning", 80.25),
                                                        ("customer-operations", "support-automation", "warning", 10))):
        key = f"spend|day|team={team}"
        con.execute("""insert into analytics.anomalies (anomaly_id, series_key, metric, grain, scope_kind, scope_value,
                           department, team, currency, start_at, end_at, status, last_point_at, expected, actual,
                           lower_band, upper_band, impact, impact_cost, impact_pct, score, severity, alertable,
                           root_cause, drivers, detected_at, history_status)
                       values (?, ?, 'spend', 'day', 'team', ?, ?, ?, 'USD', ?, null, 'open', ?, 100, 200, 80, 120,
                               100, ?, 100, 5, ?, true, ?, ?, ?, 'ok')""",
                    [f"A-{i}", key, team, dept, team, datetime(2026, 10, 20 + i), now, impact, severity,
                     f"volume: team={team}", json.dumps([{"name": f"team={team}", "effect": "volume",
                                                         "impact_cost": impact}]), now])
        for day in range(10, 31):
            con.execute("insert into analytics.anomaly_points values (?, ?, ?, 100, 80, 120, ?, ?)",
                        [key, datetime(2026, 10, day), 100 + (100 if day >= 20 + i else 0), day >= 20 + i,
                         f"A-{i}" if day >= 20 + i else None])
        con.execute("""insert into analytics.budget_status values (?, 'team', ?, ?, ?, null, 'monthly', ?, ?, 'USD',
                           1000, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [f"{team}-monthly", team, dept, team, date(2026, 10, 1), date(2026, 10, 31), 700 + 300 * i,
                     900 + 300 * i, 850 + 300 * i, 950 + 300 * i, 70.0 + 30 * i, 90.0 + 30 * i,
                     date(2026, 10, 29) if i else None, date(2026, 10, 31), now])
        con.execute("""insert into analytics.forecasts values ('team', ?, ?, ?, null, ?, ?, ?, 'USD', ?, ?, ?, ?,
                           'seasonal', ?)""",
                    [team, dept, team, date(2026, 10, 1), date(2026, 10, 31), date(2026, 10, 31), 700 + 300 * i,
                     900 + 300 * i, 850 + 300 * i, 950 + 300 * i, now])
        con.execute("""insert into analytics.recommendations (rec_id, kind, scope_kind, scope_value, department, team,
                           agent, current_setting, proposed_setting, traffic_share, currency, monthly_saving,
                           saving_low_80, saving_high_80, quality_change, evidence_count, risk, change, rationale,
                           created_at)
                       values (?, 'routing', 'team', ?, ?, ?, null, 'model-a', 'model-b', 0.5, 'USD', ?, ?, ?, -0.01,
                               500, 'low', 'route 50% to model-b', 'cheaper with equal quality', ?)""",
                    [f"R-{i}", team, dept, team, 300 + 100 * i, 200 + 100 * i, 400 + 100 * i, now])
    con.close()


@pytest.fixture(scope="session")
def dashboard_company(demo_company, tmp_path_factory):
    """A copy of the demo company with model outputs, and a snapshot published from it."""
    company = demo_company.copy_to(tmp_path_factory.mktemp("dashboard-company"))
    _add_model_outputs(company.warehouse)
    snapshot.publish_from_warehouse(company.warehouse, snapshot.snapshot_dir(company.warehouse))
    return company


@pytest.fixture
def dashboard_env(dashboard_company, tmp_path, monkeypatch):
    monkeypatch.setenv("COSTWARDEN_WAREHOUSE", dashboard_company.warehouse)
    monkeypatch.setenv("COSTWARDEN_CONFIG", dashboard_company.config)
    monkeypatch.setenv("COSTWARDEN_DASHBOARD__WRITEBACK_FILE", str(tmp_path / "writeback.duckdb"))
    return dashboard_company


def app_as(viewer: Viewer | None, page: str | None = None, query: dict | None = None) -> AppTest:
    """An AppTest signed in as `viewer` (None: not signed in), run on `page` (pages/x.py)."""
    at = AppTest.from_file(APP, default_timeout=120)
    if viewer is not None:
        at.session_state["viewer"] = viewer
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page and not at.exception:
        at.switch_page(page)
        at.run()
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; metrics: {[m.label for m in at.metric]}"
    return found[0]
