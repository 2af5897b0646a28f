"""Make reports and deliver them: files into a folder (`--out DIR`), or emails through the alerts outbox (`--send`).

Emails go through the outbox like alerts: each (report, period, recipient) has one idempotency key, so the weekly
job run twice sends each report once, and a crash before sending loses nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from alerts.channels import build_senders
from alerts.jobs import delivered, delivery_line
from alerts.outbox import Delivery, DeliveryReport, deliver_pending
from alerts.reports import compose
from alerts.reports.chart import daily_spend_png
from alerts.reports.data import Period, ReportData, gather, parse_scope
from alerts.routing import message_id
from alerts.summary import link
from costwarden import db
from costwarden.db import transaction
from costwarden.errors import ConfigError


@dataclass
class ReportRun:
    made: list[str] = field(default_factory=list)        # one line per report: what, where to
    enqueued: int = 0
    delivery: DeliveryReport | None = None

    @property
    def ok(self) -> bool:
        return self.delivery is None or delivered(self.delivery)

    def summary(self) -> str:
        lines = list(self.made)
        if self.delivery is not None:
            lines.append(f"{self.enqueued} report emails new in the outbox; {delivery_line(self.delivery)}")
            lines += [f"channel {n} not usable: {why}" for n, why in sorted(self.delivery.problems.items())]
        return "\n".join(lines)


def _link(settings, data: ReportData) -> str:
    query = "&".join(f"{k}={v}" for k, v in data.scope)
    return link(settings.alerts.dashboard_url, "/" + (f"?{query}" if query else ""))


def write_files(settings, data: ReportData, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / f"{data.slug}.png"
    png.write_bytes(daily_spend_png(data))
    files = [folder / f"{data.slug}.html", png, folder / f"{data.slug}.csv", folder / f"{data.slug}.xlsx",
             folder / f"{data.slug}.txt"]
    files[0].write_text(compose.html_page(data, _link(settings, data), png.name), encoding="utf-8")
    files[2].write_text(compose.lines_csv(data), encoding="utf-8", newline="")
    files[3].write_bytes(compose.workbook(data))
    files[4].write_text(compose.text(data, _link(settings, data)), encoding="utf-8")
    return files


def _email_channel(settings):
    alerts = settings.alerts
    name = alerts.reports.channel or next((c.name for c in alerts.channels if c.kind == "email"), "")
    if not name:
        raise ConfigError("sending reports needs an email channel in [[alerts.channels]] (kind = \"email\"), named "
                          "in [alerts.reports] channel.")
    return alerts.channel(name)


def recipients_for(settings, data: ReportData) -> list[str]:
    reports = settings.alerts.reports
    if not data.scope:
        if not reports.finance_recipients:
            raise ConfigError("the finance report has no recipients: set [alerts.reports] finance_recipients.")
        return sorted(set(reports.finance_recipients))
    kind, value = data.scope[0]
    owners = {t.owner_email for t in settings.teams if getattr(t, kind) == value and t.owner_email}
    found = sorted(owners | set(reports.department_recipients))
    if not found:
        raise ConfigError(f"the report for {kind} {value} has no recipients: give its teams an owner_email in "
                          "[[teams]] or set [alerts.reports] department_recipients.")
    return found


def enqueue_emails(con, settings, data: ReportData, now: datetime) -> int:
    channel = _email_channel(settings)
    png, xlsx = daily_spend_png(data), compose.workbook(data)
    added = 0
    with transaction(con):
        for recipient in recipients_for(settings, data):
            subscription = f"report:{data.period}:{data.scope_text}"
            mid = message_id(subscription, channel.name, recipient, data.start.isoformat())
            eml = compose.email(data, recipient, channel.from_address, mid, _link(settings, data), png, xlsx)
            payload = {"from": channel.from_address, "to": [recipient], "eml": eml}
            naive = now.astimezone(UTC).replace(tzinfo=None)
            added += con.execute("""
                insert into alerts.outbox (message_id, subscription, channel, channel_kind, recipient, mode,
                    group_key, payload, status, attempts, next_attempt_at, created_at)
                values (?, ?, ?, 'email', ?, 'report', ?, ?, 'pending', 0, ?, ?) on conflict do nothing""",
                [mid, subscription, channel.name, recipient, f"report:{data.period}:{data.start.isoformat()}",
                 json.dumps(payload), naive, naive]).fetchone()[0]
    return added


def _reports(con, settings, period: Period, scope_text: str | None, per_department: bool, as_of: date | None):
    top = settings.alerts.reports.top
    scope = parse_scope(scope_text)
    yield gather(con, period, scope, as_of, top)
    if per_department and not scope:
        for (department,) in con.execute("""select distinct department from marts.allocated_cost
                                            where department not like '\\_\\_%' escape '\\' order by 1""").fetchall():
            yield gather(con, period, (("department", department),), as_of, top)


def make_reports(settings, warehouse: str, period: Period, scope: str | None = None, out: str | None = None,
                 send: bool = False, per_department: bool = False, as_of: date | None = None,
                 now: datetime | None = None, environ=None) -> ReportRun:
    """`costwarden report`: compose the report(s); write them to `out`, queue and send them, or both."""
    now = now or datetime.now(UTC)
    run = ReportRun()
    con = db.connect(warehouse)
    try:
        for data in _reports(con, settings, period, scope, per_department, as_of):
            what = f"{compose.title(data)}"
            if out:
                files = write_files(settings, data, Path(out))
                what += f": wrote {', '.join(p.name for p in files)} to {out}"
            if send:
                try:
                    recipients = recipients_for(settings, data)
                except ConfigError as exc:
                    if not (per_department and data.scope):
                        raise
                    run.made.append(f"{what}: not sent, {exc}")   # one department without owners skips only itself
                    continue
                run.enqueued += enqueue_emails(con, settings, data, now)
                what += f": to {', '.join(recipients)}"
            if not out and not send:
                what += "\n" + compose.text(data, _link(settings, data))
            run.made.append(what)
        if send:
            senders, problems = build_senders(settings.alerts, environ)
            run.delivery = deliver_pending(con, senders, Delivery(settings.alerts), problems)
    finally:
        con.close()
    return run


def send_reports(settings, warehouse: str, period: Period, per_department: bool = True) -> ReportRun:
    """The scheduled job: the finance report and (by default) one per department, by email."""
    return make_reports(settings, warehouse, period, send=True, per_department=per_department)
