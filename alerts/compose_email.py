"""Compose an alert email: plain text and HTML alternatives, and a CSV attachment for digests. Pure.

Message-ID is the idempotency key, so a receiving mail system (or a person) can tell a resend from a new alert;
updates carry In-Reply-To so mail clients thread them under the page they follow.
"""

from __future__ import annotations

import csv
import html
import io
from decimal import ROUND_HALF_UP, Decimal
from email.message import EmailMessage
from email.utils import format_datetime

from alerts.routing import AlertMessage, utc
from alerts.settings import ChannelSettings
from alerts.strings import t
from alerts.summary import Card

SUBJECT_PREFIX = "[costwarden] "
CSV_COLUMNS = ("detected_at", "event_type", "severity", "department", "team", "agent", "model", "title",
               "impact_usd", "impact_pct", "event_key", "link")


def mail_id(message_id: str, from_address: str) -> str:
    domain = from_address.rpartition("@")[2] or "costwarden.invalid"
    return f"<{message_id}@{domain}>"


def compose_email(message: AlertMessage, c: Card, channel: ChannelSettings) -> dict:
    """{"from", "to", "eml"}: the whole RFC 5322 message as text, sent as-is by alerts/channels/email.py."""
    lang = channel.language
    mail = EmailMessage()
    mail["Subject"] = SUBJECT_PREFIX + c.title
    mail["From"] = channel.from_address
    mail["To"] = message.recipient
    mail["Date"] = format_datetime(utc(message.created_at))
    mail["Message-ID"] = mail_id(message.message_id, channel.from_address)
    mail["X-Costwarden-Alert-Id"] = message.message_id
    if message.reply_to:
        parent = mail_id(message.reply_to, channel.from_address)
        mail["In-Reply-To"] = parent
        mail["References"] = parent
    mail.set_content(_text(c, lang))
    mail.add_alternative(_html(c, lang), subtype="html")
    if message.mode == "digest":
        mail.add_attachment(_csv(message, c).encode(), maintype="text", subtype="csv",
                            filename=f"costwarden-alerts-{message.period_start.isoformat()}.csv")
    # Fixed boundaries keep the bytes deterministic (golden files, identical resends).
    for n, part in enumerate(p for p in mail.walk() if p.is_multipart()):
        part.set_boundary(f"=={message.message_id}.{n}==")
    return {"from": channel.from_address, "to": [message.recipient], "eml": mail.as_string()}


def _text(c: Card, lang: str) -> str:
    lines = [c.title, "=" * min(len(c.title), 72)]
    if c.intro:
        lines += ["", c.intro]
    for item in c.items:
        lines.append("")
        if len(c.items) > 1:
            lines.append(item.title)
        lines += [f"{label}: {value}" for label, value in item.facts]
        if item.drivers:
            lines.append(f"{t(lang, 'drivers')}:")
            lines += [f"  {n}. {d}" for n, d in enumerate(item.drivers, 1)]
        lines.append(item.link)
    lines += ["", f"{t(lang, 'open_dashboard')}: {c.link}", f"{t(lang, 'idempotency')}: {c.message_id}"]
    return "\n".join(lines) + "\n"


_COLOURS = {"info": "#2563eb", "warning": "#d97706", "critical": "#dc2626"}


def _html(c: Card, lang: str) -> str:
    e = html.escape
    out = ['<html><body style="font-family:sans-serif">',
           f'<h2 style="color:{_COLOURS[c.severity]}">{e(c.title)}</h2>']
    if c.intro:
        out.append(f"<p>{e(c.intro)}</p>")
    for item in c.items:
        if len(c.items) > 1:
            out.append(f'<h3 style="color:{_COLOURS[item.severity]}">{e(item.title)}</h3>')
        out.append('<table cellpadding="4">')
        out += [f"<tr><th align=\"left\">{e(label)}</th><td>{e(value)}</td></tr>" for label, value in item.facts]
        out.append("</table>")
        if item.drivers:
            out.append(f"<p><b>{e(t(lang, 'drivers'))}</b></p><ol>")
            out += [f"<li>{e(d)}</li>" for d in item.drivers]
            out.append("</ol>")
        out.append(f'<p><a href="{e(item.link)}">{e(item.link)}</a></p>')
    out.append(f'<p><a href="{e(c.link)}">{e(t(lang, "open_dashboard"))}</a></p>')
    out.append(f'<p style="color:#6b7280;font-size:small">{e(t(lang, "idempotency"))}: {e(c.message_id)}</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts with = + - @ as a formula; names from config must not.
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _csv(message: AlertMessage, c: Card) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for event, item in zip(message.events, c.items):
        scope = event.scope
        writer.writerow([_cell(v) for v in (
            utc(event.detected_at).isoformat(), event.event_type, event.severity, scope.department, scope.team,
            scope.agent, scope.model, item.title, event.impact_usd, _rounded(event.impact_pct), event.event_key,
            item.link)])
    return buffer.getvalue()
