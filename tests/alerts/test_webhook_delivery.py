"""Webhook delivery against a real HTTP listener on 127.0.0.1 that fails on purpose and then recovers.

Retries run on a fake clock (no waiting) except the HTTP timeout itself, which is real and short.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from collections import Counter
from urllib.parse import parse_qs, urlparse

import pytest

from alerts.channels import build_senders
from alerts.dispatch import plan, run
from alerts.outbox import Delivery, deliver_pending, failures
from tests.alerts.factory import FakeClock, NOW, anomaly, budget, health, settings, subscription

TOKEN = "T0KEN-s3cr3t-abc123"


def _config(kind: str = "webhook", **over):
    channel = dict(name="hook", kind=kind, url_env="CW_HOOK_URL", timeout_seconds=0.3)
    channel.update(over.pop("channel", {}))
    return settings([channel], [subscription()], **over)


def _env(listener, path: str = f"services/{TOKEN}?access_token={TOKEN}") -> dict:
    return {"CW_HOOK_URL": listener.url(path)}


def _deliver(con, config, environ, clock):
    senders, problems = build_senders(config, environ)
    return deliver_pending(con, senders, Delivery(config, clock.now, clock.sleep, random.Random(7)), problems)


def _outbox(con):
    return con.execute("select status, attempts, last_error from alerts.outbox order by created_at").fetchall()


def test_failures_then_recovery_deliver_exactly_once_and_honour_retry_after(con, listener):
    config, clock = _config(), FakeClock()
    listener.then(("status", 500, {}, b"boom"), ("status", 429, {"Retry-After": "7"}, b"slow down"),
                  ("timeout", 1.0))
    plan(con, [anomaly()], config, [], NOW)
    report = _deliver(con, config, _env(listener), clock)
    assert (report.sent, report.retried, report.failed) == (1, 3, 0)
    assert len(listener.requests) == 4 and len({r.key for r in listener.requests}) == 1
    assert [r.key for r in listener.accepted] == [listener.requests[0].key]
    # First backoff: 1 s with jitter (0.5-1 s); then exactly the server's Retry-After; then 4 s with jitter.
    first, second, third = clock.sleeps
    assert 0.5 <= first <= 1.0 and second == 7.0 and 2.0 <= third <= 4.0
    outcomes = con.execute("select outcome, retry_after_s from alerts.deliveries order by attempt_no").fetchall()
    assert outcomes == [("transient", None), ("transient", 7.0), ("transient", None), ("sent", None)]
    # A second run of the whole job sends nothing more.
    plan(con, [anomaly()], config, [], NOW)
    assert _deliver(con, config, _env(listener), clock).sent == 0 and len(listener.requests) == 4


def test_generic_webhook_body_carries_the_idempotency_key(con, listener):
    config, clock = _config(), FakeClock()
    (message,), _ = plan(con, [budget()], config, [], NOW)
    _deliver(con, config, _env(listener), clock)
    (received,) = listener.accepted
    assert received.key == message.message_id == received.json()["id"]
    assert received.json()["events"][0]["amount_usd"] == "8123.40"   # money as exact decimal strings


def test_permanent_4xx_is_recorded_and_never_retried(con, listener):
    config, clock = _config(), FakeClock()
    listener.then(("status", 404, {}, b"no_service"))
    plan(con, [anomaly()], config, [], NOW)
    report = _deliver(con, config, _env(listener), clock)
    assert (report.sent, report.failed) == (0, 1)
    clock.advance(days=1)
    _deliver(con, config, _env(listener), clock)
    assert len(listener.requests) == 1
    ((status, attempts, error),) = _outbox(con)
    assert (status, attempts) == ("failed_permanent", 1) and "HTTP 404: no_service" in error
    assert len(failures(con)) == 1


def test_transient_failures_give_up_after_max_attempts(con, listener):
    config, clock = _config(max_attempts=3), FakeClock()
    listener.then(*[("status", 503, {}, b"")] * 5)
    plan(con, [anomaly()], config, [], NOW)
    assert _deliver(con, config, _env(listener), clock).failed == 1
    ((status, attempts, error),) = _outbox(con)
    assert (status, attempts, len(listener.requests)) == ("failed_permanent", 3, 3)
    assert error.startswith("gave up after 3 attempts")


def test_a_retry_due_later_than_the_run_horizon_waits_for_the_next_run(con, listener):
    config, clock = _config(), FakeClock()
    listener.then(("status", 429, {"Retry-After": "3600"}, b""))
    plan(con, [anomaly()], config, [], NOW)
    report = _deliver(con, config, _env(listener), clock)
    assert (report.sent, report.waiting, clock.sleeps) == (0, 1, [])
    clock.advance(minutes=30)
    assert _deliver(con, config, _env(listener), clock).sent == 0 and len(listener.requests) == 1
    clock.advance(minutes=31)
    assert _deliver(con, config, _env(listener), clock).sent == 1 and len(listener.accepted) == 1


def test_webhook_url_token_never_appears_in_errors_or_the_outbox(con, listener):
    config, clock = _config(max_attempts=2), FakeClock()
    # The receiver echoes the token back in its error text; a closed port gives a connection error.
    config = _config(max_attempts=2, retry_within_run_seconds=0)
    listener.then(("status", 403, {}, f"invalid token {TOKEN}".encode()), ("status", 503, {}, TOKEN.encode()))
    plan(con, [anomaly("a"), anomaly("b", minutes_ago=100)], config, [], NOW)
    _deliver(con, config, _env(listener), clock)
    closed = {"CW_HOOK_URL": f"http://127.0.0.1:9/hooks/{TOKEN}"}
    clock.advance(hours=1)
    _deliver(con, config, closed, clock)
    assert [row[0] for row in _outbox(con)] == ["failed_permanent", "failed_permanent"]
    stored = json.dumps([con.execute(f"select * from {t}").fetchall() for t in
                         ("alerts.outbox", "alerts.outbox_events", "alerts.deliveries")], default=str)
    assert TOKEN not in stored and "failed_permanent" in stored and "127.0.0.1:9 unreachable" in stored


def test_missing_url_variable_keeps_messages_pending_and_names_the_variable(con):
    config, clock = _config(), FakeClock()
    plan(con, [anomaly()], config, [], NOW)
    report = _deliver(con, config, {}, clock)
    assert report.waiting == 1 and "CW_HOOK_URL" in report.problems["hook"]


def test_crash_after_enqueue_before_send_loses_nothing(warehouse, listener):
    from costwarden import db

    config = _config()
    con = db.connect(warehouse)
    plan(con, [anomaly()], config, [], NOW)
    con.close()                     # the process dies before delivering
    con = db.connect(warehouse)
    report = run(con, [anomaly()], config, [], NOW, environ=_env(listener),
                 delivery=Delivery(config, FakeClock().now, FakeClock().sleep))
    assert (report.enqueued, report.delivery.sent, len(listener.accepted)) == (0, 1, 1)
    con.close()


class DiesAfterSending:
    """Sends, then the process is killed before it can record that it sent."""

    def __init__(self, inner):
        self.inner = inner

    def send(self, payload, message_id):
        self.inner.send(payload, message_id)
        raise SystemExit("killed")


def test_crash_between_send_and_mark_resends_once_with_the_same_key(con, listener):
    config, clock = _config(), FakeClock()
    plan(con, [anomaly()], config, [], NOW)
    senders, _ = build_senders(config, _env(listener))
    with pytest.raises(SystemExit):
        deliver_pending(con, {"hook": DiesAfterSending(senders["hook"])}, Delivery(config, clock.now, clock.sleep))
    assert _outbox(con)[0][0] == "sending"
    report = _deliver(con, config, _env(listener), clock)
    assert (report.recovered, report.sent) == (1, 1)
    first, second = listener.accepted
    assert first.key == second.key and first.body == second.body     # a receiver can drop the duplicate
    assert Counter(r.key for r in listener.accepted).most_common(1)[0][1] == 2
    outcomes = [r[0] for r in con.execute("select outcome from alerts.deliveries order by attempt_no").fetchall()]
    assert outcomes == ["interrupted", "sent"]


def test_receiver_that_accepts_but_answers_late_sees_one_key_twice(con, listener):
    config, clock = _config(), FakeClock()
    listener.then(("accept_then_hang", 1.0))
    plan(con, [anomaly()], config, [], NOW)
    assert _deliver(con, config, _env(listener), clock).sent == 1
    assert len(listener.accepted) == 2 and len({r.key for r in listener.accepted}) == 1


def test_dingtalk_signs_the_url_and_retries_its_rate_limit_code(con, listener):
    config = _config("dingtalk", channel={"secret_env": "CW_DING_SECRET"})
    environ = {"CW_HOOK_URL": listener.url(f"robot/send?access_token={TOKEN}"), "CW_DING_SECRET": "SECabc"}
    listener.then(("json", {"errcode": 130101, "errmsg": "send too fast"}), ("json", {"errcode": 0, "errmsg": "ok"}))
    plan(con, [anomaly()], config, [], NOW)
    clock = FakeClock()
    assert _deliver(con, config, environ, clock).sent == 1 and clock.sleeps == [60.0]
    query = parse_qs(urlparse(listener.requests[-1].path).query)
    expected = hmac.new(b"SECabc", f"{query['timestamp'][0]}\nSECabc".encode(), hashlib.sha256).digest()
    assert base64.b64decode(query["sign"][0]) == expected and query["access_token"] == [TOKEN]
    assert listener.requests[-1].json()["msgtype"] == "markdown"


def test_feishu_signs_the_body_and_a_refusal_code_is_permanent(con, listener):
    config = _config("feishu", channel={"secret_env": "CW_FEISHU_SECRET"})
    environ = {"CW_HOOK_URL": listener.url(f"open-apis/bot/v2/hook/{TOKEN}"), "CW_FEISHU_SECRET": "fs-secret"}
    listener.then(("json", {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}))
    plan(con, [anomaly()], config, [], NOW)
    assert _deliver(con, config, environ, FakeClock()).failed == 1
    body = listener.requests[0].json()
    key = f"{body['timestamp']}\nfs-secret".encode()
    assert base64.b64decode(body["sign"]) == hmac.new(key, b"", hashlib.sha256).digest()
    assert "code 19021" in _outbox(con)[0][2] and TOKEN not in _outbox(con)[0][2]


def test_wecom_and_slack_deliver_their_composed_payloads(con, listener):
    for kind in ("wecom", "slack"):
        config = settings([dict(name=kind, kind=kind, url_env="CW_HOOK_URL")], [subscription(kind, kind)])
        listener.then(("json", {"errcode": 0, "errmsg": "ok"}) if kind == "wecom" else ("status", 200, {}, b"ok"))
        plan(con, [health(subject=kind)], config, [], NOW)
        assert _deliver(con, config, _env(listener), FakeClock()).sent == 1
    wecom, slack = (r.json() for r in listener.accepted)
    assert wecom["msgtype"] == "markdown" and slack["blocks"][0]["type"] == "header"
