"""The alerts job: find events in the warehouse, route them, compose into the outbox, deliver. Also the small
jobs behind `costwarden alerts send` (deliver what is pending) and `costwarden alerts outbox` (what is stuck).

`run_alerts(settings, warehouse, now=None)` is the entry point `costwarden run` chains after the models.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_string, policy
from typing import Mapping

from alerts.channels import build_senders
from alerts.dispatch import RunReport, run
from alerts.outbox import Delivery, DeliveryReport, deliver_pending
from alerts.sources import collect
from costwarden import db


@dataclass
class AlertsReport:
    events: Counter = field(default_factory=Counter)   # by family
    run: RunReport | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.run is None or delivered(self.run.delivery)

    def summary(self) -> str:
        families = ", ".join(f"{family} {count}" for family, count in sorted(self.events.items())) or "none"
        lines = [f"alerts: {sum(self.events.values())} events ({families})"]
        if self.run is not None:
            lines.append(f"  {self.run.planned} messages due, {self.run.enqueued} new in the outbox")
            lines.append("  " + delivery_line(self.run.delivery))
            lines += [f"  channel {name} not usable: {why}" for name, why in sorted(self.run.delivery.problems.items())]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def delivered(report: DeliveryReport) -> bool:
    """Nothing failed, and no message waits on a channel that cannot be used (a missing secret)."""
    return report.failed == 0 and not (report.problems and report.waiting)


def delivery_line(report: DeliveryReport) -> str:
    line = (f"delivery: sent {report.sent}, retried {report.retried}, failed {report.failed}, "
            f"waiting {report.waiting}")
    return line + (f" (recovered {report.recovered} interrupted)" if report.recovered else "")


def run_alerts(settings, warehouse: str, now: datetime | None = None, environ: Mapping[str, str] | None = None,
               delivery: Delivery | None = None) -> AlertsReport:
    now = now or datetime.now(UTC)
    con = db.connect(warehouse)
    try:
        found = collect(con, settings.alerts, now, [s.name for s in settings.sources])
        report = AlertsReport(Counter(e.family for e in found.events), notes=found.notes)
        if not settings.alerts.subscriptions:
            report.notes.append("no [[alerts.subscriptions]] configured: nothing was sent")
            return report
        report.run = run(con, found.events, settings.alerts, settings.teams, now, environ, delivery)
        return report
    finally:
        con.close()


@dataclass
class SendReport:
    delivery: DeliveryReport

    @property
    def ok(self) -> bool:
        return delivered(self.delivery)

    def summary(self) -> str:
        lines = [delivery_line(self.delivery)]
        lines += [f"  channel {name} not usable: {why}" for name, why in sorted(self.delivery.problems.items())]
        return "\n".join(lines)


def send_pending(settings, warehouse: str, environ: Mapping[str, str] | None = None) -> SendReport:
    """Deliver what is due in the outbox (retries, messages a missing secret held back), compose nothing new."""
    con = db.connect(warehouse)
    try:
        senders, problems = build_senders(settings.alerts, environ)
        return SendReport(deliver_pending(con, senders, Delivery(settings.alerts), problems))
    finally:
        con.close()


OUTBOX_STATES = {"pending": ("pending", "sending"), "failed": ("failed_permanent",), "sent": ("sent",),
                 "all": ("pending", "sending", "failed_permanent", "sent")}


def outbox(warehouse: str, state: str = "pending", limit: int = 50) -> tuple[list[str], list[tuple]]:
    """Outbox messages in a state (pending includes in-flight), newest first, with their last error."""
    con = db.connect(warehouse, read_only=True)
    try:
        cursor = con.execute("""
            select created_at, status, attempts, next_attempt_at, subscription, channel, recipient, mode,
                   channel_kind, payload, last_error, message_id
            from alerts.outbox where list_contains(?, status)
            order by created_at desc, message_id limit ?""", [list(OUTBOX_STATES[state]), limit])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()
    for row in rows:
        row["title"] = title_of(row.pop("channel_kind"), json.loads(row.pop("payload")))
    columns = ["created_at", "status", "attempts", "next_attempt_at", "subscription", "channel", "recipient", "mode",
               "title", "last_error", "message_id"]
    return columns, [tuple(row[c] for c in columns) for row in rows]


def title_of(kind: str, payload: dict) -> str:
    """The headline of a composed payload, for listings."""
    if kind == "email":
        return message_from_string(payload["eml"], policy=policy.default)["Subject"] or ""
    if kind == "dingtalk":
        return payload["markdown"]["title"]
    if kind == "feishu":
        return payload["card"]["header"]["title"]["content"]
    if kind == "wecom":
        return payload["markdown"]["content"].split("\n", 1)[0].lstrip("# ")
    return payload.get("title") or payload.get("text") or ""
