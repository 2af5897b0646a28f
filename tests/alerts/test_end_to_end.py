"""End to end on a copy of the demo company, through a real SMTP server and a Slack-compatible HTTP listener on
127.0.0.1, configured the way the demo config ships (secrets in environment variables).

- The alerts half: the demo's labelled incidents as analytics.anomalies rows (a stand-in for the detector, written
  from demo.incidents) go out once each to the right owners, with their drivers; a re-run sends nothing; an
  escalation is an update, not a new page.
- `costwarden run` with the real detector.
- Reports: the weekly finance report arrives by email with its attachments, and its HTML renders the KPIs and the
  inline chart.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from alerts.jobs import run_alerts
from alerts.reports.job import make_reports
from costwarden import db
from costwarden.config import load_settings
from costwarden.demo.company import AGENTS, TEAM_DEPARTMENT, team_owner
from costwarden.demo.configfile import ALERT_ENV, DEMO_SMTP_PORT
from tests.alerts.servers import WebhookListener, start_smtp

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]

PASSWORD = "demo-smtp-pa55"
SLACK_TOKEN = "T000/B000/demo-slack-secret"
NOW = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
AGENT_TEAM = {a.name: a.team for a in AGENTS}

# What the detector should name as the top driver of each incident (demo.incidents, expected_root_cause).
EXPECTED_DRIVER = {"INC-001": "agent=campaign-writer", "INC-002": "agent=ticket-summariser",
                   "INC-003": "agent=code-review-bot", "INC-004": "agent=kb-answerer",
                   "INC-005": "model=claude-3-7-sonnet", "INC-006": "model=anthropic.claude-3-7-sonnet"}


@pytest.fixture
def company(demo_company, tmp_path):
    """A writable copy of the demo whose mail channel points at this test's SMTP server."""
    clone = demo_company.copy_to(tmp_path / "acme")
    controller, mailbox, _ = start_smtp("none", tmp_path, "costwarden", PASSWORD)
    config = Path(clone.config)
    text = config.read_text(encoding="utf-8")
    assert f"smtp_port = {DEMO_SMTP_PORT}" in text
    config.write_text(text.replace(f"smtp_port = {DEMO_SMTP_PORT}", f"smtp_port = {controller.port}"),
                      encoding="utf-8")
    listener = WebhookListener().start()
    environ = {ALERT_ENV["slack"]: listener.url(f"services/{SLACK_TOKEN}"),
               ALERT_ENV["webhook"]: listener.url("platform"), ALERT_ENV["smtp_password"]: PASSWORD}
    yield clone, mailbox, listener, environ
    listener.stop()
    controller.stop()


def _owner_scope(incident: tuple) -> dict:
    _, _, scope_kind, scope, *_ = incident
    if scope_kind == "team":
        return {"department": TEAM_DEPARTMENT[scope], "team": scope, "agent": None, "model": None}
    if scope_kind == "agent":
        team = AGENT_TEAM[scope]
        return {"department": TEAM_DEPARTMENT[team], "team": team, "agent": scope, "model": None}
    return {"department": None, "team": None, "agent": None, "model": scope}


def _write_incidents_as_anomalies(warehouse: str) -> list[tuple]:
    """Stand-in for the detector: one alertable anomaly per labelled incident, drivers naming its cause."""
    con = db.connect(warehouse)
    incidents = con.execute("select id, kind, scope_kind, scope, start, \"end\", description, expected_root_cause "
                            "from demo.incidents order by id").fetchall()
    for incident in incidents:
        inc_id, kind, _, _, start, end, _, cause = incident
        scope = _owner_scope(incident)
        drivers = [{"name": EXPECTED_DRIVER[inc_id], "effect": kind, "impact_cost": 420.5},
                   {"name": "region=us-east-1", "effect": "volume", "impact_cost": 12.25}]
        con.execute("""insert into analytics.anomalies (anomaly_id, series_key, metric, grain, scope_kind,
            scope_value, department, team, agent, model, currency, start_at, end_at, status, last_point_at,
            expected, actual, impact, impact_cost, impact_pct, severity, alertable, root_cause, drivers,
            detected_at) values (?, ?, 'spend', 'day', ?, ?, ?, ?, ?, ?, 'USD', ?, ?, ?, ?, 100, 532.75, 432.75,
            432.75, 432.75, 'warning', true, ?, ?, ?)""",
            [inc_id, f"spend|day|{inc_id}", incident[2], incident[3], scope["department"], scope["team"],
             scope["agent"], scope["model"], start, end, "resolved" if end else "open",
             datetime(2026, 10, 31), cause, json.dumps(drivers), datetime(2026, 11, 1)])
    con.close()
    return incidents


def _mails_by_recipient(mailbox) -> dict[str, list]:
    found: dict[str, list] = {}
    for envelope, mail in zip(mailbox.envelopes, mailbox.messages()):
        for rcpt in envelope.rcpt_tos:
            found.setdefault(rcpt, []).append(mail)
    return found


def test_demo_incidents_reach_their_owners_once_with_drivers(company):
    clone, mailbox, listener, environ = company
    settings = load_settings(clone.config, environ={})
    incidents = _write_incidents_as_anomalies(clone.warehouse)

    report = run_alerts(settings, clone.warehouse, now=NOW, environ=environ)
    assert report.run.delivery.failed == 0 and not report.run.delivery.problems, report.summary()
    assert report.events["anomaly"] == 6

    # Slack (finance): one message per incident, each naming its top driver.
    slack = [r for r in listener.accepted if r.path.startswith("/services/")]
    assert len(slack) == 6
    texts = [json.dumps(r.json()) for r in slack]
    for inc_id, driver in EXPECTED_DRIVER.items():
        assert sum(driver in text for text in texts) == 1, (inc_id, driver)

    # Email (team leads): every incident with a team goes to that team's owner, once; the model-wide price change
    # has no team lead (finance has it on Slack).
    mails = _mails_by_recipient(mailbox)
    expected: dict[str, list[str]] = {}
    for incident in incidents:
        team = _owner_scope(incident)["team"]
        if team:
            expected.setdefault(team_owner(team), []).append(EXPECTED_DRIVER[incident[0]])
    assert sorted(mails) == sorted(expected)
    for owner, drivers in expected.items():
        bodies = [m.get_body(("plain",)).get_content() for m in mails[owner]]
        assert len(bodies) == len(drivers), owner
        assert sorted(next(d for d in drivers if d in body) for body in bodies) == sorted(drivers)
        assert all("Top drivers:" in body for body in bodies)
    support = mails[team_owner("support-automation")]          # two incidents of one team: two messages
    assert len(support) == 2
    ended = [m for m in mails[team_owner("growth")] if "Ended: 2026-08-18 00:00 UTC" in m.get_body(("plain",))
             .get_content()]
    assert len(ended) == 1                                      # over before it was first reported: says so

    # Again: nothing new anywhere.
    sent = (len(listener.accepted), len(mailbox.envelopes))
    again = run_alerts(settings, clone.warehouse, now=NOW + timedelta(hours=1), environ=environ)
    assert again.run.planned == 0 and (len(listener.accepted), len(mailbox.envelopes)) == sent

    # An escalation is one update to the same people, threaded under the first page.
    con = db.connect(clone.warehouse)
    con.execute("update analytics.anomalies set severity = 'critical' where anomaly_id = 'INC-002'")
    con.close()
    run_alerts(settings, clone.warehouse, now=NOW + timedelta(hours=2), environ=environ)
    assert len(listener.accepted) == sent[0] + 1 and len(mailbox.envelopes) == sent[1] + 1
    update = mailbox.messages()[-1]
    assert update["Subject"].startswith("[costwarden] Update: Cost anomaly escalated to critical")
    assert update["In-Reply-To"] and mailbox.envelopes[-1].rcpt_tos == [team_owner("support-automation")]


# The culprit each incident's root cause should name (the detector writes "<effect>: <culprit>").
CULPRIT = {"INC-001": "agent=campaign-writer", "INC-002": "agent=ticket-summariser",
           "INC-003": "agent=code-review-bot", "INC-004": "agent=kb-answerer", "INC-005": "agent=fraud-explainer",
           "INC-006": "model=anthropic.claude-3-7-sonnet-20250219-v1:0"}
CULPRIT_TEAM = {"INC-001": "growth", "INC-002": "support-automation", "INC-003": "devtools",
                "INC-004": "support-automation", "INC-005": "risk-models", "INC-006": None}


def _cause(text: str) -> str | None:
    """The culprit a root-cause line names ("token_mix: agent=x" -> "agent=x")."""
    return text.split(": ", 1)[1].strip() if ": " in text else None


def _slack_cause(message: dict) -> str | None:
    """The one cause a Slack anomaly message is about: its group's cause, or its single anomaly's root cause (other
    culprits may appear in it as drivers or affected scopes; they are not what it is about)."""
    header = message["blocks"][0]["text"]["text"]
    if "alerts with one cause: " in header:
        return header.split("alerts with one cause: ", 1)[1]
    for block in message["blocks"]:
        for field in block.get("fields", []):
            if field["text"].startswith("*Root cause*\n"):
                return _cause(field["text"].removeprefix("*Root cause*\n"))
    return None


def _mail_cause(mail) -> str | None:
    subject = str(mail["Subject"])
    if "alerts with one cause: " in subject:
        return subject.split("alerts with one cause: ", 1)[1]
    if "Cost anomaly" not in subject:
        return None                      # budget, data-health and latency mails
    body = mail.get_body(("plain",)).get_content()
    return next((_cause(line.removeprefix("Root cause: ")) for line in body.splitlines()
                 if line.startswith("Root cause: ")), None)


def test_costwarden_run_sends_the_detected_demo_incidents_once(company, cli, monkeypatch):
    """The real chain: build, detect, forecast, (recommend), alerts. All six demo incidents clear the detector's
    gates (each is worth several times the demo's scaled $ gate) and page: each reaches finance on Slack as one
    message however many series it shows in, and its team's lead by email once, naming the culprit. The model-wide
    price change has no one team: finance has it, and each lead whose agents' series show it gets it once. A second
    run sends nothing."""
    clone, mailbox, listener, environ = company
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    code, out, err = cli("--warehouse", clone.warehouse, "--config", clone.config, "run", "--skip", "ingest")
    assert code == 0, out + err
    con = db.connect(clone.warehouse, read_only=True)
    causes = {r[0] for r in con.execute("select root_cause from analytics.anomalies where alertable and "
                                        "suppressed_by is null and root_cause is not null").fetchall()}
    con.close()
    paged = sorted(i for i, culprit in CULPRIT.items() if any(c.endswith(": " + culprit) for c in causes))
    assert paged == sorted(CULPRIT), causes

    slack = [r.json() for r in listener.accepted if r.path.startswith("/services/")]
    slack_causes = [_slack_cause(m) for m in slack
                    if "Cost anomaly" in m["text"] or "alerts with one cause" in m["text"]]
    mails = [(e.rcpt_tos, _mail_cause(m)) for e, m in zip(mailbox.envelopes, mailbox.messages())]
    for inc_id, culprit in CULPRIT.items():
        assert slack_causes.count(culprit) == 1, (inc_id, culprit, slack_causes)
        to = [rcpt for rcpt, cause in mails if cause == culprit]
        team = CULPRIT_TEAM[inc_id]
        if team:       # (a department-wide series also reaches the department's other leads)
            assert to.count([team_owner(team)]) == 1, (inc_id, mails)
        else:       # the price change: the leads of the teams whose series show it, one mail each
            leads = [r for rcpt in to for r in rcpt]
            assert leads and len(leads) == len(set(leads)) and all(r.endswith("-lead@acme.example") for r in leads)
    sent = (len(listener.accepted), len(mailbox.envelopes))
    code, out, err = cli("--warehouse", clone.warehouse, "--config", clone.config, "run", "--skip", "ingest")
    assert code == 0 and (len(listener.accepted), len(mailbox.envelopes)) == sent, out


class _Page(HTMLParser):
    """Collects what a mail client would render: text, and image sources."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())


def test_weekly_finance_report_arrives_with_attachments_and_renders(company):
    from openpyxl import load_workbook

    clone, mailbox, _, environ = company
    settings = load_settings(clone.config, environ={})
    run = make_reports(settings, clone.warehouse, "weekly", send=True, now=NOW, environ=environ)
    assert run.delivery.sent == 1 and run.ok, run.summary()
    (envelope,) = mailbox.envelopes
    assert envelope.rcpt_tos == ["finops@acme.example"]
    (mail,) = mailbox.messages()
    assert mail["Subject"] == "[costwarden] Weekly cost report: whole organisation (2026-10-19 to 2026-10-25)"

    con = db.connect(clone.warehouse, read_only=True)
    spend, previous = con.execute("""select sum(effective_cost) filter (where day >= date '2026-10-19'),
        sum(effective_cost) filter (where day < date '2026-10-19') from marts.allocated_cost
        where day >= date '2026-10-12' and day < date '2026-10-26'""").fetchone()
    con.close()
    spend_text = f"${Decimal(spend).quantize(Decimal('0.01')):,}"
    change = Decimal(spend).quantize(Decimal("0.01")) - Decimal(previous).quantize(Decimal("0.01"))

    page = _Page()
    page.feed(mail.get_body(("html",)).get_content())
    rendered = " ".join(page.text)
    assert f"Spend (USD) {spend_text}" in rendered
    assert f"Change vs previous period {'+' if change > 0 else '-'}${abs(change):,}" in rendered
    assert "Cost per request" in rendered and "Top movers by team" in rendered
    (src,) = page.images
    cid = src.removeprefix("cid:")
    (image,) = [p for p in mail.walk() if p["Content-ID"] == f"<{cid}>"]
    assert image.get_content_type() == "image/png" and image.get_content()[:4] == b"\x89PNG"

    attachments = {a.get_filename(): a for a in mail.iter_attachments()}
    slug = "costwarden-weekly-organisation-2026-10-19"
    assert set(attachments) == {f"{slug}.csv", f"{slug}.xlsx"}
    rows = list(csv.DictReader(io.StringIO(attachments[f"{slug}.csv"].get_content())))
    assert sum(Decimal(r["effective_cost"]) for r in rows) == Decimal(spend)     # every dollar, exactly
    book = load_workbook(io.BytesIO(attachments[f"{slug}.xlsx"].get_content()))
    assert book["Summary"]["B2"].value == spend_text and book["Cost lines"].max_row == len(rows) + 1
    assert re.search(r"Spend \(USD\): \$[\d,]+\.\d\d", mail.get_body(("plain",)).get_content())

    # The weekly job run again sends nothing twice.
    again = make_reports(settings, clone.warehouse, "weekly", send=True, now=NOW + timedelta(hours=1),
                         environ=environ)
    assert again.enqueued == 0 and len(mailbox.envelopes) == 1
