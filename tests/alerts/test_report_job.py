"""Report job on a small warehouse: the finance report and one per department, each to its own people, through a
real SMTP server; a department without owners is skipped, not fatal; files for archives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from alerts.reports.job import make_reports
from costwarden import db
from costwarden.config import Settings
from tests.alerts.servers import start_smtp

NOW = datetime(2026, 10, 27, 6, tzinfo=UTC)


@pytest.fixture
def small_warehouse(warehouse):
    con = db.connect(warehouse)
    con.execute("create schema if not exists marts")
    con.execute("""create table marts.allocated_cost (day date, billing_currency varchar, department varchar,
        team varchar, agent varchar, model varchar, environment varchar, region varchar, cost_kind varchar,
        billed_cost decimal(38, 10), effective_cost decimal(38, 10), estimated_cost decimal(38, 10),
        input_tokens bigint, output_tokens bigint, cache_read_tokens bigint, cache_write_tokens bigint,
        requests bigint)""")
    for offset in range(14):
        day = date(2026, 10, 12) + timedelta(days=offset)
        for dept, team, cost in (("product", "search", "10.5"), ("legal", "legal-ops", "2.25"),
                                 ("__idle__", "__idle__", "1")):
            con.execute("insert into marts.allocated_cost values (?, 'USD', ?, ?, null, null, 'prod', null, "
                        "'tokens', ?, ?, null, 100, 10, 0, 0, 5)", [day, dept, team, cost, cost])
    con.close()
    return warehouse


def _settings(port: int) -> Settings:
    return Settings.model_validate({
        "teams": [{"team": "search", "department": "product", "owner_email": "search-lead@acme.example"},
                  {"team": "legal-ops", "department": "legal"}],
        "alerts": {"channels": [{"name": "mail", "kind": "email", "smtp_host": "127.0.0.1", "smtp_port": port,
                                 "smtp_security": "none", "from_address": "costwarden@acme.example"}],
                   "reports": {"finance_recipients": ["finops@acme.example"]}}})


def test_finance_and_department_reports_go_to_their_people(small_warehouse, tmp_path):
    controller, mailbox, _ = start_smtp("none", tmp_path)
    try:
        settings = _settings(controller.port)
        run = make_reports(settings, small_warehouse, "weekly", send=True, per_department=True, now=NOW,
                           out=str(tmp_path / "archive"), environ={})
    finally:
        controller.stop()
    assert run.delivery.sent == 2 and run.ok, run.summary()
    received = {tuple(e.rcpt_tos): m["Subject"] for e, m in zip(mailbox.envelopes, mailbox.messages())}
    assert received == {
        ("finops@acme.example",): "[costwarden] Weekly cost report: whole organisation (2026-10-19 to 2026-10-25)",
        ("search-lead@acme.example",): "[costwarden] Weekly cost report: department=product (2026-10-19 to "
                                       "2026-10-25)"}
    assert any("department=legal" in line and "not sent" in line and "owner_email" in line for line in run.made)
    files = sorted(p.name for p in Path(tmp_path / "archive").iterdir())
    assert "costwarden-weekly-organisation-2026-10-19.xlsx" in files and len(files) == 15   # 3 reports x 5 files
    text = (tmp_path / "archive" / "costwarden-weekly-department-product-2026-10-19.txt").read_text()
    assert "Spend (USD): $73.50" in text and "Change vs previous period: $0.00 (0.0%)" in text
    assert "Cost per request: $2.1000 (was $2.1000)" in text
