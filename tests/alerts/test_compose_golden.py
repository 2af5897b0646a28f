"""Every channel's composed payload matches its golden file (fixed times, fixed ids). UPDATE_GOLDEN=1 rewrites them.

A changed golden file is a changed message: review the diff as you would review the wording.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal
from email import message_from_string, policy
from pathlib import Path

import pytest

from alerts.compose import WECOM_MAX_BYTES, compose
from alerts.routing import History, Page, route
from tests.alerts.factory import NOW, anomaly, budget, health, latency, settings, subscription

GOLDEN = Path(__file__).parent / "golden"
KINDS = ("slack", "webhook", "dingtalk", "feishu", "wecom")


def _channels(language: str = "en") -> list[dict]:
    chats = [dict(name=kind, kind=kind, url_env=f"CW_{kind.upper()}_URL", language=language) for kind in KINDS]
    return chats + [dict(name="mail", kind="email", smtp_host="127.0.0.1", from_address="alerts@acme.example",
                         language=language)]


def _messages(channel: str, events, frequency: str = "immediate", history: History = History(), language="en",
              **sub):
    config = settings(_channels(language), [subscription("s", channel, frequency=frequency,
                                                         recipients=["finops@acme.example"], **sub)])
    return config, route(events, config, [], history, NOW)


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.write_text(text, encoding="utf-8")
        if not os.environ.get("UPDATE_GOLDEN"):
            pytest.fail(f"golden file {name} was missing and has been written; review it and run again")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; UPDATE_GOLDEN=1 rewrites it after review"


def _as_json(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


SCENARIOS = {
    "anomaly_opened": lambda: [anomaly()],
    "storm": lambda: [anomaly(f"a{n:02}", team=f"team-{n:02}", root_cause="price change: model=gpt-4o",
                              minutes_ago=20 - n / 5) for n in range(12)],
    "budget_forecast": lambda: [budget("forecast", "100", severity="critical")],
    "data_health": lambda: [health("unpriced_models", "litellm", value=Decimal(2), threshold=Decimal(0),
                                   details=("acme/llama-ft-1", "gpt-9-preview"))],
    "latency": lambda: [latency()],
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_chat_payload_matches_golden(kind, scenario):
    config, messages = _messages(kind, SCENARIOS[scenario]())
    assert len(messages) == 1
    _check(f"{kind}_{scenario}.json", _as_json(compose(messages[0], config.channel(kind), config)))


@pytest.mark.parametrize("kind", ("dingtalk", "feishu", "wecom", "mail"))
def test_chinese_payload_matches_golden(kind):
    config, messages = _messages(kind, [anomaly(kind="escalated", severity="critical")], language="zh")
    payload = compose(messages[0], config.channel(kind), config)
    text = payload["eml"] if kind == "mail" else _as_json(payload)
    _check(f"{kind}_anomaly_escalated_zh." + ("eml" if kind == "mail" else "json"), text)
    if kind == "mail":
        text.encode("ascii")   # headers RFC 2047-encoded, bodies base64: smtplib can send it as-is


def test_email_page_matches_golden_and_parses_into_text_and_html():
    config, messages = _messages("mail", [anomaly()])
    payload = compose(messages[0], config.channel("mail"), config)
    _check("email_anomaly_opened.eml", payload["eml"])
    mail = message_from_string(payload["eml"], policy=policy.default)
    assert mail["Message-ID"] == f"<{messages[0].message_id}@acme.example>"
    assert "Top drivers" in mail.get_body(("plain",)).get_content()
    assert "<ol>" in mail.get_body(("html",)).get_content()
    assert not list(mail.iter_attachments())
    payload["eml"].encode("ascii")   # 7-bit clean: smtplib sends it as-is


def test_email_update_threads_under_the_page_it_follows():
    earlier = History(pages=(Page("s", "finops@acme.example", "anomaly:a1", "anomaly:a1", "cw-page", NOW
                                  - timedelta(hours=1)),))
    config, messages = _messages("mail", [anomaly(kind="escalated", severity="critical")], history=earlier)
    assert messages[0].mode == "update"
    payload = compose(messages[0], config.channel("mail"), config)
    _check("email_anomaly_update.eml", payload["eml"])
    mail = message_from_string(payload["eml"], policy=policy.default)
    assert mail["In-Reply-To"] == "<cw-page@acme.example>" and mail["Subject"].startswith("[costwarden] Update:")


def test_email_digest_matches_golden_with_csv_attachment():
    events = [anomaly(minutes_ago=60 * 12), budget(detected_at=NOW - timedelta(hours=15)), health(),
              latency(detected_at=NOW - timedelta(hours=20)),
              anomaly("a2", team="=cmd|' /C calc'!A0", minutes_ago=60 * 11, impact="-120")]
    config, messages = _messages("mail", events, frequency="daily")
    payload = compose(messages[0], config.channel("mail"), config)
    _check("email_digest.eml", payload["eml"])
    mail = message_from_string(payload["eml"], policy=policy.default)
    (attachment,) = mail.iter_attachments()
    rows = attachment.get_content().splitlines()
    assert attachment.get_filename() == "costwarden-alerts-2026-03-02.csv" and len(rows) == 5
    assert ",'=cmd|" in rows[-1] and ",-120," in rows[-1]   # a formula is neutralised; a number is not


def test_wecom_markdown_stays_under_its_byte_limit_for_a_large_storm():
    storm = [anomaly(f"a{n:03}", team="team-with-a-rather-long-name-" + "x" * 200, root_cause="one cause")
             for n in range(60)]
    config, messages = _messages("wecom", storm)
    content = compose(messages[0], config.channel("wecom"), config)["markdown"]["content"]
    assert len(content.encode()) <= WECOM_MAX_BYTES and "60" in content


def test_compose_is_pure_same_message_same_bytes():
    config, messages = _messages("mail", [anomaly(minutes_ago=60 * 24 * 3), budget()], frequency="weekly")
    first = compose(messages[0], config.channel("mail"), config)
    assert compose(messages[0], config.channel("mail"), config) == first
