"""Events x subscriptions -> messages to send: gates, recipients, grouping, cooldown and digests. Pure.

What was already sent comes in as `History` (read from the outbox by alerts/outbox.py), so running the job twice
over the same events yields no second message. Composing the text is left to alerts/compose.py.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Iterable, Literal, Protocol, Sequence

from alerts.events import Event, severity_rank
from alerts.settings import AlertSettings, SubscriptionSettings

Mode = Literal["page", "update", "digest"]


class TeamOwner(Protocol):  # costwarden.config.OrgUnit has this shape
    team: str
    department: str
    owner_email: str


@dataclass(frozen=True)
class AlertMessage:
    message_id: str                       # idempotency key: same subscription, recipient and events -> same id
    subscription: str
    channel: str
    recipient: str                        # an email address, or the channel name for webhook kinds
    mode: Mode                            # page: new; update: an ongoing thing already paged; digest: a batch
    group_key: str
    events: tuple[Event, ...]
    created_at: datetime
    period_start: date | None = None      # digests: the UTC days covered, end exclusive
    period_end: date | None = None
    reply_to: str = ""                    # updates: the message id of the page they follow (email threading)


@dataclass(frozen=True)
class Page:
    """A page already in the outbox, per event it carried: what cooldown compares against."""

    subscription: str
    recipient: str
    thread_key: str
    group_key: str
    message_id: str
    at: datetime


@dataclass(frozen=True)
class History:
    dispatched: frozenset[tuple[str, str, str]] = frozenset()   # (subscription, recipient, event_key)
    pages: tuple[Page, ...] = ()
    message_ids: frozenset[str] = frozenset()


@dataclass
class _Run:
    settings: AlertSettings
    history: History
    now: datetime
    pages: list[Page] = field(default_factory=list)


def utc(moment: datetime) -> datetime:
    """Warehouse timestamps are naive UTC; events built in code may be aware. Compare them as aware UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def message_id(*parts: str) -> str:
    return "cw-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def route(events: Iterable[Event], settings: AlertSettings, teams: Sequence[TeamOwner], history: History,
          now: datetime) -> list[AlertMessage]:
    """Every message due now, in a stable order. Events already sent to a recipient are left out."""
    unique = {e.event_key: e for e in events}
    ordered = sorted(unique.values(), key=lambda e: (utc(e.detected_at), e.event_key))
    run = _Run(settings, history, utc(now), list(history.pages))
    messages: list[AlertMessage] = []
    for sub in settings.subscriptions:
        kind = settings.channel(sub.channel).kind
        per_recipient: dict[str, list[Event]] = defaultdict(list)
        for event in ordered:
            if not passes(sub, event):
                continue
            for recipient in recipients(sub, kind, event, teams):
                if (sub.name, recipient, event.event_key) not in history.dispatched:
                    per_recipient[recipient].append(event)
        for recipient in sorted(per_recipient):
            if sub.frequency == "immediate":
                messages += _immediate(run, sub, recipient, per_recipient[recipient])
            else:
                messages += _digest(run, sub, recipient, per_recipient[recipient])
    return messages


def passes(sub: SubscriptionSettings, event: Event) -> bool:
    """Event kind, scope filters, severity and money gates."""
    if event.event_type not in sub.events and event.family not in sub.events:
        return False
    for name, allowed in (("department", sub.departments), ("team", sub.teams), ("agent", sub.agents),
                          ("model", sub.models)):
        if allowed and getattr(event.scope, name) not in allowed:
            return False
    if severity_rank(event.severity) < severity_rank(sub.min_severity):
        return False
    if event.impact_usd is not None and abs(event.impact_usd) < sub.min_impact_usd:
        return False
    return event.impact_pct is None or abs(event.impact_pct) >= sub.min_impact_pct


def recipients(sub: SubscriptionSettings, channel_kind: str, event: Event, teams: Sequence[TeamOwner]) -> list[str]:
    if channel_kind != "email":
        return [sub.channel]              # a webhook posts to one place: the channel is the recipient
    if sub.recipients:
        return sorted(set(sub.recipients))
    # team_lead without recipients: the owners from the org mapping, for their own scope only.
    if event.scope.team:
        owners = {t.owner_email for t in teams if t.team == event.scope.team}
    elif event.scope.department:
        owners = {t.owner_email for t in teams if t.department == event.scope.department}
    else:
        owners = set()                    # org-wide events have no team lead; route them to finance / platform
    return sorted(o for o in owners if o)


def _immediate(run: _Run, sub: SubscriptionSettings, recipient: str, events: list[Event]) -> list[AlertMessage]:
    by_group: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_group[event.group_key].append(event)
    window = timedelta(minutes=run.settings.grouping_window_minutes)
    messages = []
    for group_key in sorted(by_group, key=lambda g: (utc(by_group[g][0].detected_at), g)):
        chunk: list[Event] = []
        for event in by_group[group_key]:
            if chunk and utc(event.detected_at) - utc(chunk[0].detected_at) > window:
                messages.append(_grouped(run, sub, recipient, group_key, chunk))
                chunk = []
            chunk.append(event)
        messages.append(_grouped(run, sub, recipient, group_key, chunk))
    return messages


def _grouped(run: _Run, sub: SubscriptionSettings, recipient: str, group_key: str,
             chunk: list[Event]) -> AlertMessage:
    started = utc(chunk[0].detected_at)
    threads = {e.thread_key for e in chunk}
    since = started - timedelta(minutes=run.settings.cooldown_minutes)
    earlier = [p for p in run.pages if p.subscription == sub.name and p.recipient == recipient
               and (p.thread_key in threads or p.group_key == group_key) and utc(p.at) >= since]
    all_resolved = all(getattr(e, "kind", "") == "resolved" for e in chunk)
    mode: Mode = "update" if earlier or all_resolved else "page"
    mid = message_id(sub.name, sub.channel, recipient, group_key, *sorted(e.event_key for e in chunk))
    if mode == "page":
        run.pages += [Page(sub.name, recipient, e.thread_key, group_key, mid, started) for e in chunk]
    reply_to = max(earlier, key=lambda p: utc(p.at)).message_id if earlier else ""
    return AlertMessage(mid, sub.name, sub.channel, recipient, mode, group_key, tuple(chunk), run.now,
                        reply_to=reply_to)


def last_complete_period(frequency: str, now: datetime) -> tuple[date, date]:
    """The most recent whole UTC day, or ISO week (Monday to Monday), before `now`."""
    today = utc(now).date()
    if frequency == "daily":
        return today - timedelta(days=1), today
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(days=7), this_monday


def _digest(run: _Run, sub: SubscriptionSettings, recipient: str, events: list[Event]) -> list[AlertMessage]:
    start, end = last_complete_period(sub.frequency, run.now)
    mid = message_id(sub.name, sub.channel, recipient, "digest", start.isoformat())
    if mid in run.history.message_ids:
        return []                         # this period's digest went out; late events wait for the next one
    cutoff = datetime.combine(end, time(), UTC)
    included = tuple(e for e in events if utc(e.detected_at) < cutoff)
    if not included:
        return []
    return [AlertMessage(mid, sub.name, sub.channel, recipient, "digest", f"digest:{sub.frequency}:{start}",
                         included, run.now, period_start=start, period_end=end)]
