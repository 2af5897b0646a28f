"""Every page, for every role: renders without an exception, and the numbers shown equal the warehouse's own,
computed here with independent SQL on the warehouse (not the snapshot) restricted to the role's scope."""

from __future__ import annotations

import duckdb
import pytest

from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import APP, VIEWERS, app_as, metric

PAGES = ["overview", "attribution", "unit_economics", "models_latency", "anomalies", "budgets", "recommendations",
         "reports", "data_health"]
SCOPE_SQL = {
    "admin": "true", "finance": "true", "viewer": "true",
    "product-lead": "department = 'product'",
    "support-lead": "team = 'support-automation'",
}


def _one(warehouse: str, sql: str, params: list | None = None):
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return con.execute(sql, params or []).fetchone()[0]
    finally:
        con.close()


def money(value, decimals: int = 2) -> str:
    """As the page shows an amount (the currency is in the label)."""
    return f"{float(value or 0):,.{decimals}f}"


@pytest.mark.parametrize("role", list(VIEWERS))
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_every_role(dashboard_env, role, page):
    at = app_as(VIEWERS[role], f"pages/{page}.py")
    assert not at.exception, at.exception
    assert len(at.title) == 1


@pytest.mark.parametrize("role", list(VIEWERS))
def test_overview_and_attribution_totals_match_the_warehouse(dashboard_env, role):
    scope = SCOPE_SQL[role]
    billed = _one(dashboard_env.warehouse, f"select sum(billed_cost) from marts.allocated_cost where {scope} "
                                           "and cost_kind <> 'estimated_unbilled'")
    at = app_as(VIEWERS[role])
    assert metric(at, "Spend in the selected dates (USD)") == money(billed)
    requests = _one(dashboard_env.warehouse, f"select sum(requests) from marts.allocated_cost where {scope} and "
                                             "cost_kind in ('tokens', 'capacity', 'estimated_unbilled')")
    assert metric(at, "Requests") == f"{int(requests):,}"
    at.switch_page("pages/attribution.py")
    at.run()
    assert metric(at, "Billed cost in scope (USD)") == money(billed)
    idle = _one(dashboard_env.warehouse, f"select sum(billed_cost) from marts.allocated_cost where {scope} and "
                                         "department = '__idle__'")
    assert metric(at, "`__idle__` (USD)") == money(idle)
    if role in ("admin", "finance", "viewer"):
        assert idle > 0          # the demo's provisioned throughput leaves idle capacity; finance must see it


@pytest.mark.parametrize("role", ["finance", "product-lead"])
def test_unit_cost_matches_the_warehouse(dashboard_env, role):
    scope = SCOPE_SQL[role]
    cost, requests = duckdb.connect(dashboard_env.warehouse, read_only=True).execute(
        f"select sum(cost), sum(requests) from marts.unit_cost where {scope}").fetchone()
    assert requests > 0
    at = app_as(VIEWERS[role], "pages/unit_economics.py")
    assert metric(at, "Cost per request (USD)") == money(float(cost) / requests, 4)
    runs, successful = duckdb.connect(dashboard_env.warehouse, read_only=True).execute(
        f"select sum(runs), sum(successful_runs) from marts.unit_cost where {scope}").fetchone()
    assert metric(at, "Cost per agent run (USD)") == money(float(cost) / runs, 4)
    assert metric(at, "Cost per successful run (USD)") == money(float(cost) / successful, 4)


def test_models_page_names_the_slowest_model_version(dashboard_env):
    slowest = duckdb.connect(dashboard_env.warehouse, read_only=True).execute("""
        select model || ' ' || coalesce(model_version, '') from marts.performance_by_model
        group by model, model_version
        order by sum(p95_latency_ms * requests) / nullif(sum(requests), 0) desc nulls last limit 1""").fetchone()[0]
    at = app_as(VIEWERS["finance"], "pages/models_latency.py")
    assert metric(at, "Slowest (p95 latency)") == slowest


@pytest.mark.parametrize("role,expected_open", [("finance", 3), ("product-lead", 1), ("support-lead", 1)])
def test_anomalies_page_counts_what_the_role_may_see(dashboard_env, role, expected_open):
    scope = SCOPE_SQL[role]
    assert _one(dashboard_env.warehouse, f"select count(*) from analytics.anomalies where status = 'open' "
                                         f"and {scope}") == expected_open
    at = app_as(VIEWERS[role], "pages/anomalies.py")
    assert metric(at, "Open anomalies") == str(expected_open)
    impact = _one(dashboard_env.warehouse, f"select sum(impact_cost) from analytics.anomalies where {scope}")
    assert metric(at, "Cost impact") == f"{money(impact)} USD"


@pytest.mark.parametrize("role", ["finance", "product-lead"])
def test_budgets_and_recommendations_match_the_warehouse(dashboard_env, role):
    scope = SCOPE_SQL[role]
    over = _one(dashboard_env.warehouse, f"select count(*) from analytics.budget_status where pct_forecast >= 100 "
                                         f"and {scope}")
    at = app_as(VIEWERS[role], "pages/budgets.py")
    assert metric(at, "Budgets forecast to overrun") == str(over)
    saving = _one(dashboard_env.warehouse, f"select sum(monthly_saving) from analytics.recommendations where {scope}")
    at.switch_page("pages/recommendations.py")
    at.run()
    assert metric(at, "Monthly saving if all are applied (USD)") == money(saving)


@pytest.mark.parametrize("role", ["finance", "support-lead"])
def test_reports_month_total_matches_the_warehouse(dashboard_env, role):
    scope = SCOPE_SQL[role]
    month_total = _one(dashboard_env.warehouse, f"""
        select sum(billed_cost) from marts.allocated_cost
        where {scope} and strftime(day, '%Y-%m') = (select strftime(max(day), '%Y-%m') from marts.allocated_cost)
          and cost_kind <> 'estimated_unbilled'""")
    at = app_as(VIEWERS[role], "pages/reports.py")
    month = at.selectbox(key="report_month").value
    assert metric(at, f"Billed in {month} (USD)") == money(month_total)


def test_data_health_coverage_matches_the_warehouse(dashboard_env):
    coverage = _one(dashboard_env.warehouse, """
        select 100.0 * sum(attributed_to_teams) / sum(genai_billed) from marts.reconciliation_daily""")
    at = app_as(VIEWERS["finance"], "pages/data_health.py")
    assert metric(at, "Share of the bill attributed (USD)") == f"{coverage:.2f} %"


def test_audit_log_is_for_admins_only(dashboard_env):
    admin = app_as(VIEWERS["admin"], "pages/audit_log.py")
    assert not admin.exception and admin.title[0].value == "Audit log"
    lead = app_as(VIEWERS["product-lead"])
    with pytest.raises(ValueError, match="Could not find a navigation page"):   # not registered for them
        lead.switch_page("pages/audit_log.py")


def test_chinese_labels_on_every_page(dashboard_env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["viewer"] = VIEWERS["finance"]
    at.session_state["language"] = "zh"          # as the sidebar's language box sets it
    at.run()
    assert at.title[0].value == "总览"
    assert any(m.label == "所选日期内支出 (USD)" for m in at.metric)
    for page, title in (("attribution", "成本归属"), ("data_health", "数据健康"), ("anomalies", "异常")):
        at.switch_page(f"pages/{page}.py")
        at.run()
        assert not at.exception and at.title[0].value == title
