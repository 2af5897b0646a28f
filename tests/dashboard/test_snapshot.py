"""Serving while the data changes: builds publish snapshots atomically; the dashboard reads them without ever
locking the warehouse, and each read sees one build's numbers; write-backs reach the warehouse on the next build."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import duckdb
import pytest

from costwarden.build import build_warehouse
from dashboard import scope, snapshot, writeback
from dashboard.access import Viewer

FINANCE = Viewer("finance", "finance")


def test_publish_is_atomic_and_prunes(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts; create table marts.allocated_cost as select 1 as x, 'p' as department")
    folder = tmp_path / "snaps"
    published = [snapshot.publish(con, warehouse, folder, keep=2) for _ in range(3)]
    con.close()
    assert snapshot.current_snapshot(folder) == published[-1]
    assert sorted(folder.glob("snapshot-*.duckdb")) == sorted(published[1:])
    assert not list(folder.glob("*.partial")) and not list(folder.glob(".CURRENT*"))


@pytest.mark.slow
def test_build_while_the_dashboard_reads(demo_company, tmp_path):
    """Builds run (and change the data) while a reader thread queries: no read fails, no build is blocked, every
    read's totals agree within its snapshot, and the reader moves to the new numbers."""
    company = demo_company.copy_to(tmp_path)
    settings = company.settings()
    folder = snapshot.snapshot_dir(company.warehouse)
    build_warehouse(settings, company.warehouse)
    before = snapshot.current_snapshot(folder)
    seen, errors, stop = [], [], threading.Event()

    def read_loop():
        while not stop.is_set():
            try:
                path = snapshot.current_snapshot(folder)
                # two queries, as one page render does; both from the pinned snapshot
                allocated = scope.run(path, FINANCE, "select sum(billed_cost) as s from allocated_cost "
                                                     "where cost_kind <> 'estimated_unbilled'")["s"][0]
                coverage = scope.run(path, FINANCE, "select sum(total_billed) as s from reconciliation_daily")["s"][0]
                seen.append((path.name, round(float(allocated), 6), round(float(coverage), 6)))
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(repr(exc))

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        con = duckdb.connect(company.warehouse)      # the data changes: the newest month's bill is withdrawn
        con.execute("delete from raw.cost_lines where billing_period = (select max(billing_period) from "
                    "raw.cost_lines)")
        con.execute("delete from meta.billing_periods where billing_period = (select max(billing_period) from "
                    "meta.billing_periods)")
        con.close()
        report = build_warehouse(settings, company.warehouse)      # would raise 'busy' if the reader held it
        newest = snapshot.current_snapshot(folder).name
        deadline = time.monotonic() + 60
        while not any(name == newest for name, _, _ in seen) and time.monotonic() < deadline and not errors:
            time.sleep(0.2)
    finally:
        stop.set()
        reader.join()
    assert "dashboard snapshot" in report.snapshot, report.summary()
    assert not errors, errors[:3]
    assert all(a == c for _, a, c in seen)                     # one build's numbers within a read
    names = {name for name, _, _ in seen}
    assert snapshot.current_snapshot(folder) != before and len({a for _, a, _ in seen}) == 2, (names, seen[-1:])


def test_write_backs_reach_the_warehouse_once(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    from costwarden import db

    db.connect(warehouse).close()                 # schema applied, like any warehouse
    path = writeback.writeback_path(warehouse)
    anomaly = {"anomaly_id": "A-1", "series_key": "spend|day|team=search", "metric": "spend", "grain": "day",
               "scope_kind": "team", "scope_value": "search", "department": "product", "team": "search",
               "start_at": datetime(2026, 10, 20), "status": "open", "severity": "warning"}
    writeback.record_feedback(path, "A-1", "planned", "maria", "launch week", anomaly=anomaly)
    recommendation = {"rec_id": "R-1", "kind": "routing", "scope_kind": "team", "scope_value": "search",
                      "department": "product", "team": "search", "current_setting": "model-a",
                      "proposed_setting": "model-b", "currency": "USD", "risk": "low", "change": "route to model-b",
                      "rationale": "cheaper, same quality"}
    writeback.record_decision(path, "R-1", "approved", "maria", recommendation=recommendation)
    writeback.record_event(path, user="maria", role="finance", via="password", action="export", page="reports",
                           scope="all", export_format="csv", export_rows=3, export_bytes=120)
    con = db.connect(warehouse)
    try:
        first = writeback.import_into(con, path)
        again = writeback.import_into(con, path)
        feedback = con.execute("select anomaly_id, verdict, user_name, note from analytics.anomaly_feedback").fetchall()
        events = con.execute("select action, export_rows, export_bytes from audit.dashboard_events").fetchall()
    finally:
        con.close()
    assert first == {"audit.dashboard_events": 1, "analytics.anomaly_feedback": 1,
                     "analytics.recommendation_decisions": 1}
    assert set(again.values()) == {0}
    assert feedback == [("A-1", "planned", "maria", "launch week")]
    assert events == [("export", 3, 120)]


def test_page_views_are_audited_with_scope_and_filters(dashboard_env, tmp_path):
    from tests.dashboard.conftest import VIEWERS, app_as

    app_as(VIEWERS["product-lead"])
    app_as(VIEWERS["product-lead"], query={"team": "search"})
    rows = writeback.read(tmp_path / "writeback.duckdb", """
        select user_name, action, page, scope, json_extract_string(filters, '$.teams[0]') as team
        from audit.dashboard_events order by occurred_at""")
    assert list(rows["action"]) == ["view", "view"]
    assert list(rows["page"]) == ["overview", "overview"]
    assert set(rows["scope"]) == {"department=product"} and set(rows["user_name"]) == {"product-lead"}
    assert list(rows["team"].fillna("")) == ["", "search"]
