"""A team lead cannot see another department by any route: crafted filter values, SQL tricks, URL parameters,
exports, or relations without a department column."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import data, exports, scope
from dashboard.access import Viewer
from tests.dashboard.conftest import VIEWERS, app_as, metric

LEAD = VIEWERS["product-lead"]
TEAM_LEAD = VIEWERS["support-lead"]
CRAFTED = ["finance", "product' or '1'='1", "product') or true --", "%", "*", "__idle__", "' union select 1 --",
           "product\x00finance"]


@pytest.fixture
def snap(dashboard_company):
    from dashboard import snapshot

    return snapshot.current_snapshot(snapshot.snapshot_dir(dashboard_company.warehouse))


def _visible(frame: pd.DataFrame, viewer: Viewer) -> bool:
    """Every row belongs to the viewer: department or team in their scope."""
    departments = frame["department"] if "department" in frame else pd.Series(index=frame.index, dtype=object)
    teams = frame["team"] if "team" in frame else pd.Series(index=frame.index, dtype=object)
    return bool((departments.isin(viewer.departments) | teams.isin(viewer.teams)).all())


def test_every_published_relation_holds_only_in_scope_rows(snap):
    relations = scope.catalog(snap)
    assert {"allocated_cost", "anomalies", "anomaly_points", "budget_status", "recommendations",
            "requests_daily", "unmapped_principals"} <= set(relations)
    for viewer in (LEAD, TEAM_LEAD):
        for name, relation in relations.items():
            frame = scope.run(snap, viewer, f'select * from "{name}"')
            if name in scope.PUBLIC:
                continue
            if relation.scoped:
                assert _visible(frame, viewer), name
            else:
                assert frame.empty, f"{name} has no scope columns, so a team lead must get no rows"
    finance = scope.run(snap, VIEWERS["finance"], "select distinct department from allocated_cost")
    assert {"product", "finance", "__idle__"} <= set(finance["department"])


@pytest.mark.parametrize("value", CRAFTED)
def test_crafted_filter_values_return_nothing_outside_scope(snap, value):
    for field in ("departments", "teams", "environments", "regions"):
        r = data.Reader(LEAD, snap, data.Filters(**{field: (value,)}))
        for frame in (data.attribution(r, "USD"), data.chargeback(r, "2026-10"), data.anomalies(r),
                      data.current_budgets(r), data.top_movers(r, "USD")):
            assert frame.empty or _visible(frame, LEAD)


def test_filtering_to_another_department_gives_zero_not_their_numbers(snap):
    r = data.Reader(LEAD, snap, data.Filters(departments=("finance",)))
    assert float(data.spend_totals(r, "USD")["total"]) == 0
    assert data.recommendations(data.Reader(LEAD, snap)).department.eq("product").all()


@pytest.mark.parametrize("sql", [
    "select * from marts.allocated_cost",
    "select * from main.allocated_cost",
    "select * from allocated_cost; select * from marts.allocated_cost",
    "select * from read_parquet('/etc/passwd')",
    "select * from read_csv_auto('x.csv')",
    "select * from duckdb_tables()",
    "select * from raw_requests",
    "attach 'x.duckdb' as y",
    "copy allocated_cost to '/tmp/leak.csv'",
])
def test_queries_outside_the_scoped_names_are_refused(snap, sql):
    with pytest.raises(scope.ScopeError):
        scope.run(snap, LEAD, sql)


def test_ctes_and_subqueries_still_see_only_the_scope(snap):
    frame = scope.run(snap, LEAD, """
        with x as (select * from allocated_cost) select distinct department from x
        where department in (select department from allocated_cost)""")
    assert set(frame["department"]) == {"product"}


def test_export_file_holds_only_the_scope(snap):
    lines = data.chargeback(data.Reader(TEAM_LEAD, snap, data.Filters(teams=("risk-models", "support-automation"))),
                            "2026-10")
    assert len(lines) and set(lines["team"]) == {"support-automation"}
    text = exports.to_csv(lines).decode()
    assert "risk-models" not in text and "__idle__" not in text
    assert "support-automation" in exports.to_focus(lines).decode()


def test_url_parameters_cannot_widen_the_scope(dashboard_env):
    at = app_as(LEAD, query={"department": "finance"})
    assert not at.exception
    assert metric(at, "Spend in the selected dates (USD)") == "0.00"
    at = app_as(LEAD, "pages/attribution.py", query={"department": ["product", "finance"], "team": "risk-models"})
    assert not at.exception
    assert all(m.value == "0.00" for m in at.metric)       # nothing, or zeros: never finance's amounts
    assert "risk-models" not in str([d.value for d in at.dataframe])


def test_team_lead_filter_choices_are_their_own(dashboard_env):
    at = app_as(LEAD)
    assert at.multiselect(key="filter_department").options == ["product"]
    assert set(at.multiselect(key="filter_team").options) == {"search", "recommendations", "growth"}


def test_feedback_is_refused_for_an_anomaly_outside_scope(snap):
    assert data.visible_anomaly(data.Reader(LEAD, snap), "A-0")        # product's
    assert not data.visible_anomaly(data.Reader(LEAD, snap), "A-1")    # finance's
    assert not data.visible_recommendation(data.Reader(LEAD, snap), "R-1")
