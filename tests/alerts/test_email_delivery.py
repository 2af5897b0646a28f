"""Email delivery through a real aiosmtpd server on 127.0.0.1: STARTTLS with AUTH, implicit TLS, plain SMTP.

The certificate is generated in the test; the client trusts it through the channel's ca_file, as a company
with an internal CA would configure it.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import timedelta

import pytest

from alerts.channels import build_senders
from alerts.dispatch import plan
from alerts.outbox import Delivery, deliver_pending
from tests.alerts.factory import FakeClock, NOW, anomaly, budget, health, settings, subscription
from tests.alerts.servers import free_port, start_smtp

PASSWORD = "pa55-w0rd-never-logged"


@pytest.fixture
def smtp(tmp_path):
    started = []

    def start(security: str, username: str = "", password: str = "", port: int = 0):
        controller, mailbox, cert = start_smtp(security, tmp_path, username, password, port)
        started.append(controller)
        return controller, mailbox, cert

    yield start
    for controller in started:
        controller.stop()


def _config(controller, security, cert, username="", recipients=("finops@acme.example",), frequency="immediate"):
    channel = dict(name="mail", kind="email", smtp_host="127.0.0.1", smtp_port=controller.port,
                   smtp_security=security, smtp_username=username, password_env="CW_SMTP_PASSWORD" if username else "",
                   from_address="alerts@acme.example", ca_file=str(cert or ""), timeout_seconds=5)
    return settings([channel], [subscription("finance", "mail", recipients=list(recipients), frequency=frequency)])


def _deliver(con, config, password=PASSWORD):
    senders, problems = build_senders(config, {"CW_SMTP_PASSWORD": password})
    clock = FakeClock()
    return deliver_pending(con, senders, Delivery(config, clock.now, clock.sleep, random.Random(1)), problems)


def test_starttls_with_auth_delivers_a_digest_with_text_html_and_csv(con, smtp):
    controller, mailbox, cert = smtp("starttls", "alerts-bot", PASSWORD)
    config = _config(controller, "starttls", cert, username="alerts-bot", frequency="daily")
    events = [anomaly(minutes_ago=60 * 12), budget(detected_at=NOW - timedelta(hours=14)), health(
        detected_at=NOW - timedelta(hours=13))]
    (message,), _ = plan(con, events, config, [], NOW)
    assert _deliver(con, config).sent == 1
    (envelope,) = mailbox.envelopes
    assert envelope.mail_from == "alerts@acme.example" and envelope.rcpt_tos == ["finops@acme.example"]
    (mail,) = mailbox.messages()
    assert mail["Message-ID"] == f"<{message.message_id}@acme.example>"
    assert "Daily alert digest for 2026-03-02" in mail.get_body(("plain",)).get_content()
    assert "<h2" in mail.get_body(("html",)).get_content()
    (attachment,) = mail.iter_attachments()
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert [r["event_type"] for r in rows] == ["budget.actual", "data_health.ingest_stale", "anomaly.opened"]
    assert rows[0]["impact_usd"] == "8123.40"


def test_implicit_tls_delivers(con, smtp):
    controller, mailbox, cert = smtp("tls")
    config = _config(controller, "tls", cert)
    plan(con, [anomaly()], config, [], NOW)
    assert _deliver(con, config).sent == 1 and len(mailbox.envelopes) == 1


def test_plain_smtp_delivers_and_a_rerun_sends_nothing_more(con, smtp):
    controller, mailbox, _ = smtp("none")
    config = _config(controller, "none", None)
    plan(con, [anomaly(), budget()], config, [], NOW)
    assert _deliver(con, config).sent == 2
    plan(con, [anomaly(), budget()], config, [], NOW + timedelta(minutes=10))
    assert _deliver(con, config).sent == 0
    ids = [m["Message-ID"] for m in mailbox.messages()]
    assert len(ids) == len(set(ids)) == 2


def test_refused_address_is_permanent_and_the_other_recipient_still_gets_it(con, smtp):
    controller, mailbox, _ = smtp("none")
    config = _config(controller, "none", None, recipients=("nobody@acme.example", "finops@acme.example"))
    plan(con, [anomaly()], config, [], NOW)
    report = _deliver(con, config)
    assert (report.sent, report.failed) == (1, 1)
    (error,) = con.execute("select last_error from alerts.outbox where status = 'failed_permanent'").fetchone()
    assert "nobody@acme.example" in error and "550" in error
    assert [e.rcpt_tos for e in mailbox.envelopes] == [["finops@acme.example"]]


def test_wrong_password_is_permanent_and_never_appears_anywhere(con, smtp):
    controller, mailbox, cert = smtp("starttls", "alerts-bot", "the-right-one")
    config = _config(controller, "starttls", cert, username="alerts-bot")
    plan(con, [anomaly()], config, [], NOW)
    assert _deliver(con, config, password=PASSWORD).failed == 1 and not mailbox.envelopes
    stored = json.dumps([con.execute(f"select * from {t}").fetchall() for t in ("alerts.outbox", "alerts.deliveries")],
                        default=str)
    assert PASSWORD not in stored and "refused the login of alerts-bot" in stored


def test_untrusted_certificate_is_permanent_with_a_hint(con, smtp):
    controller, _, _ = smtp("starttls")
    config = _config(controller, "starttls", None)      # no ca_file: the self-signed certificate is not trusted
    plan(con, [anomaly()], config, [], NOW)
    assert _deliver(con, config).failed == 1
    (error,) = con.execute("select last_error from alerts.outbox").fetchone()
    assert "not trusted" in error and "ca_file" in error


def test_server_down_is_transient_then_delivered_when_it_is_back(con, smtp):
    port = free_port()                                   # nothing listens here yet
    down = type("Down", (), {"port": port})
    config = _config(down, "none", None)
    config.retry_within_run_seconds = 0
    plan(con, [anomaly()], config, [], NOW)
    assert _deliver(con, config).retried == 1
    _, mailbox, _ = smtp("none", port=port)
    later = FakeClock(NOW + timedelta(hours=1))
    senders, _ = build_senders(config, {})
    report = deliver_pending(con, senders, Delivery(config, later.now, later.sleep))
    assert report.sent == 1 and len(mailbox.envelopes) == 1
