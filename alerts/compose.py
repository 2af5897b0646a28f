"""Compose the payload each channel sends for an AlertMessage. Pure: same message in, same bytes out.

Slack Block Kit, a generic JSON webhook body, DingTalk markdown, a Feishu/Lark interactive card and WeCom
markdown; email lives in alerts/compose_email.py. The outbox stores exactly what this returns, so a resend after
a crash is byte-identical. Signing (time-dependent) and sending are left to alerts/channels/.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

from alerts.compose_email import compose_email
from alerts.events import Event
from alerts.routing import AlertMessage
from alerts.settings import AlertSettings, ChannelSettings
from alerts.strings import t
from alerts.summary import Card, card

MAX_LISTED = 10                     # chat messages list this many events, then "and N more" with a link
WECOM_MAX_BYTES = 4096              # WeCom rejects markdown content above this many UTF-8 bytes
SCHEMA = "costwarden.alert.v1"


def compose(message: AlertMessage, channel: ChannelSettings, settings: AlertSettings) -> dict:
    """The JSON-able payload for the outbox: a webhook body, or for email {"from", "to", "eml"}."""
    summary = card(message, channel.language, settings.dashboard_url)
    if channel.kind == "email":
        return compose_email(message, summary, channel)
    builders = {"slack": slack, "webhook": lambda c, lang: webhook(message, c),
                "dingtalk": dingtalk, "feishu": feishu, "wecom": wecom}
    return builders[channel.kind](summary, channel.language)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(c: Card, lang: str) -> dict:
    blocks: list[dict] = [{"type": "header", "block_id": c.message_id,
                           "text": {"type": "plain_text", "text": c.title[:150], "emoji": True}}]
    if c.intro:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(c.intro)}})
    if len(c.items) == 1:
        only = c.items[0]
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{_slack_escape(label)}*\n{_slack_escape(value)}"}
            for label, value in only.facts[:10]]})
        if only.drivers:
            lines = "\n".join(f"• {_slack_escape(d)}" for d in only.drivers)
            blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                       "text": f"*{_slack_escape(t(lang, 'drivers'))}*\n{lines}"}})
    else:
        for listed in c.items[:MAX_LISTED]:
            blocks.append({"type": "section", "text": {
                "type": "mrkdwn", "text": f"<{listed.link}|{_slack_escape(listed.headline)}>"}})
        if len(c.items) > MAX_LISTED:
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": _slack_escape(t(lang, "more", count=len(c.items) - MAX_LISTED))}]})
    button = {"type": "button", "text": {"type": "plain_text", "text": t(lang, "open_dashboard")}, "url": c.link}
    if c.severity == "critical":
        button["style"] = "danger"
    blocks.append({"type": "actions", "elements": [button]})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"{_slack_escape(t(lang, 'idempotency'))}: `{c.message_id}`"}]})
    return {"text": c.title, "blocks": blocks}


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def event_record(event: Event) -> dict:
    """An event as plain JSON: its fields plus type, key and group."""
    record = {"type": event.event_type, "event_key": event.event_key, "group_key": event.group_key}
    record.update(_plain(dataclasses.asdict(event)))
    return record


def webhook(message: AlertMessage, c: Card) -> dict:
    return {"schema": SCHEMA, "id": message.message_id, "mode": message.mode, "subscription": message.subscription,
            "title": c.title, "severity": c.severity, "link": c.link, "group_key": message.group_key,
            "created_at": message.created_at.isoformat(),
            "period": None if message.period_start is None else
            {"start": message.period_start.isoformat(), "end": message.period_end.isoformat()},
            "events": [event_record(e) for e in message.events]}


def _markdown(c: Card, lang: str, listed: int, colour: bool = False) -> str:
    """Markdown shared by DingTalk and WeCom (both read a small markdown subset; blank lines break)."""
    title = c.title
    if colour:  # WeCom colours text with <font color="warning|comment|info">
        title = f'<font color="{"warning" if c.severity != "info" else "info"}">{title}</font>'
    parts = [f"### {title}"]
    if c.intro:
        parts.append(f"> {c.intro}")
    if len(c.items) == 1:
        parts += [f"**{label}**: {value}" for label, value in c.items[0].facts]
        if c.items[0].drivers:
            parts.append(f"**{t(lang, 'drivers')}**")
            parts += [f"{n}. {d}" for n, d in enumerate(c.items[0].drivers, 1)]
    else:
        parts += [f"- [{i.headline}]({i.link})" for i in c.items[:listed]]
        if len(c.items) > listed:
            parts.append(t(lang, "more", count=len(c.items) - listed))
    parts.append(f"[{t(lang, 'open_dashboard')}]({c.link})")
    parts.append(f"{t(lang, 'idempotency')}: {c.message_id}")
    return "\n\n".join(parts)


def dingtalk(c: Card, lang: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": c.title, "text": _markdown(c, lang, MAX_LISTED)}}


def wecom(c: Card, lang: str) -> dict:
    listed = MAX_LISTED
    content = _markdown(c, lang, listed, colour=True)
    while len(content.encode()) > WECOM_MAX_BYTES and listed > 1:
        listed -= 1                  # list fewer events rather than have WeCom refuse the message
        content = _markdown(c, lang, listed, colour=True)
    if len(content.encode()) > WECOM_MAX_BYTES:
        content = content.encode()[:WECOM_MAX_BYTES - 3].decode(errors="ignore") + "..."
    return {"msgtype": "markdown", "markdown": {"content": content}}


_FEISHU_TEMPLATES = {"info": "blue", "warning": "orange", "critical": "red"}


def feishu(c: Card, lang: str) -> dict:
    elements: list[dict] = []
    if c.intro:
        elements.append({"tag": "div", "text": {"tag": "lark_md", "content": c.intro}})
    if len(c.items) == 1:
        elements.append({"tag": "div", "fields": [
            {"is_short": True, "text": {"tag": "lark_md", "content": f"**{label}**\n{value}"}}
            for label, value in c.items[0].facts]})
        if c.items[0].drivers:
            lines = "\n".join(f"{n}. {d}" for n, d in enumerate(c.items[0].drivers, 1))
            elements.append({"tag": "div", "text": {"tag": "lark_md", "content": f"**{t(lang, 'drivers')}**\n{lines}"}})
    else:
        lines = [f"- [{i.headline}]({i.link})" for i in c.items[:MAX_LISTED]]
        if len(c.items) > MAX_LISTED:
            lines.append(t(lang, "more", count=len(c.items) - MAX_LISTED))
        elements.append({"tag": "div", "text": {"tag": "lark_md", "content": "\n".join(lines)}})
    button = {"tag": "button", "type": "primary", "url": c.link,
              "text": {"tag": "plain_text", "content": t(lang, "open_dashboard")}}
    elements.append({"tag": "action", "actions": [button]})
    elements.append({"tag": "note", "elements": [
        {"tag": "plain_text", "content": f"{t(lang, 'idempotency')}: {c.message_id}"}]})
    return {"msg_type": "interactive", "card": {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": c.title}, "template": _FEISHU_TEMPLATES[c.severity]},
        "elements": elements}}
