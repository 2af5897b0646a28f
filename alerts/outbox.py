"""Delivery state in DuckDB: enqueue composed messages once, deliver them with retries, never twice on purpose.

At-least-once boundary: a message is marked `sending` (with an attempt id, committed) before the network call and
`sent` right after. A crash before the call loses nothing (the next run sends it); a crash after the receiver
accepted it but before `sent` was written makes the next run send it again, with the same idempotency key
(email Message-ID, the Idempotency-Key header, the payload id) so receivers can drop the duplicate. That window is
one network round trip wide; closing it would need the receiver's cooperation, which webhooks do not offer.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Callable, Iterable, Mapping

import duckdb

from alerts.channels import PermanentDeliveryError, Sender, TransientDeliveryError
from alerts.redact import redact
from alerts.routing import AlertMessage, History, Page, utc
from alerts.settings import AlertSettings
from costwarden.db import transaction


def _naive(moment: datetime) -> datetime:
    return utc(moment).replace(tzinfo=None)  # the warehouse stores UTC without a zone


def enqueue(con: duckdb.DuckDBPyConnection, composed: Iterable[tuple[AlertMessage, str, dict]],
            now: datetime) -> int:
    """Store (message, channel kind, payload) rows; a message id already present is left as it is. Returns new rows."""
    added = 0
    with transaction(con):
        for message, kind, payload in composed:
            inserted = con.execute("""
                insert into alerts.outbox (message_id, subscription, channel, channel_kind, recipient, mode,
                    group_key, payload, status, attempts, next_attempt_at, created_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) on conflict do nothing""",
                [message.message_id, message.subscription, message.channel, kind, message.recipient, message.mode,
                 message.group_key, json.dumps(payload, ensure_ascii=False), _naive(now), _naive(now)]).fetchone()[0]
            if not inserted:
                continue
            added += 1
            con.executemany("insert into alerts.outbox_events values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                [message.message_id, message.subscription, message.recipient, e.event_key, e.event_type,
                 e.thread_key, e.group_key, message.mode, _naive(e.detected_at), _naive(now)]
                for e in message.events])
    return added


def load_history(con: duckdb.DuckDBPyConnection) -> History:
    """What routing must know: events already dispatched, past pages, and message ids (digests) in the outbox."""
    dispatched = frozenset(con.execute(
        "select subscription, recipient, event_key from alerts.outbox_events").fetchall())
    pages = tuple(Page(*row) for row in con.execute("""
        select subscription, recipient, thread_key, group_key, message_id, created_at
        from alerts.outbox_events where mode = 'page'""").fetchall())
    ids = frozenset(r[0] for r in con.execute("select message_id from alerts.outbox where mode = 'digest'").fetchall())
    return History(dispatched, pages, ids)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0                  # transient failures (each will be tried again)
    failed: int = 0                   # permanent failures and messages that used up their attempts
    recovered: int = 0                # attempts a crash interrupted, now pending again
    waiting: int = 0                  # still pending after this run (a later retry, or a channel not configured)
    problems: dict[str, str] = field(default_factory=dict)   # channel -> why it could not be used


@dataclass
class Delivery:
    """The injectable parts, so tests run retries without waiting: clock, sleep, jitter."""

    settings: AlertSettings
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half the delay fixed, half random, so retries spread out."""
        delay = min(self.settings.backoff_max_seconds, self.settings.backoff_base_seconds * 2 ** (attempt - 1))
        return delay / 2 + self.rng.uniform(0, delay / 2)


def deliver_pending(con: duckdb.DuckDBPyConnection, senders: Mapping[str, Sender], delivery: Delivery,
                    problems: Mapping[str, str] | None = None) -> DeliveryReport:
    """Send every due message; wait in-run for retries due soon; leave later ones for the next run."""
    report = DeliveryReport(problems=dict(problems or {}))
    report.recovered = _recover_interrupted(con, delivery.clock())
    channels = sorted(senders)
    horizon = timedelta(seconds=delivery.settings.retry_within_run_seconds)
    while True:
        now = delivery.clock()
        due = con.execute("""
            select message_id, channel, payload, attempts from alerts.outbox
            where status = 'pending' and next_attempt_at <= ? and list_contains(?, channel)
            order by next_attempt_at, created_at, message_id""", [_naive(now), channels]).fetchall()
        for message_id, channel, payload, attempts in due:
            _attempt(con, senders[channel], delivery, report, message_id, json.loads(payload), attempts + 1)
        if due:
            continue
        upcoming = con.execute("""select min(next_attempt_at) from alerts.outbox
            where status = 'pending' and list_contains(?, channel)""", [channels]).fetchone()[0]
        if upcoming is None or utc(upcoming) - now > horizon:
            break
        delivery.sleep(max(0.0, (utc(upcoming) - now).total_seconds()))
    report.waiting = con.execute("select count(*) from alerts.outbox where status = 'pending'").fetchone()[0]
    return report


def _recover_interrupted(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    # A row still `sending` means a run died mid-attempt: we cannot know whether the receiver got it, so send again.
    with transaction(con):
        count = con.execute("""update alerts.outbox set status = 'pending', next_attempt_at = ?
                               where status = 'sending'""", [_naive(now)]).fetchone()[0]
        con.execute("""update alerts.deliveries set outcome = 'interrupted', finished_at = ?
                       where outcome is null""", [_naive(now)])
    return count


def _attempt(con, sender: Sender, delivery: Delivery, report: DeliveryReport, message_id: str, payload: dict,
             attempt_no: int) -> None:
    attempt_id = uuid.uuid4().hex
    started = _naive(delivery.clock())
    with transaction(con):   # committed before the network call: the at-least-once boundary starts here
        con.execute("""update alerts.outbox set status = 'sending', attempt_id = ?, attempts = ?
                       where message_id = ?""", [attempt_id, attempt_no, message_id])
        con.execute("insert into alerts.deliveries values (?, ?, ?, ?, null, null, null, null)",
                    [message_id, attempt_id, attempt_no, started])
    retry_after = None
    try:
        sender.send(payload, message_id)
    except TransientDeliveryError as exc:
        retry_after, error = exc.retry_after, redact(str(exc))
        if attempt_no >= delivery.settings.max_attempts:
            status, outcome, error = "failed_permanent", "transient", f"gave up after {attempt_no} attempts: {error}"
        else:
            status, outcome = "pending", "transient"
    except PermanentDeliveryError as exc:
        status, outcome, error = "failed_permanent", "permanent", redact(str(exc))
    except Exception as exc:  # a bug in a sender must not stop the other messages; its text may hold a URL
        status, outcome, error = "pending", "transient", f"{type(exc).__name__}: {redact(str(exc))}"
        if attempt_no >= delivery.settings.max_attempts:
            status = "failed_permanent"
    else:
        status, outcome, error = "sent", "sent", None
    finished = delivery.clock()
    delay = retry_after if retry_after is not None else delivery.backoff(attempt_no)
    with transaction(con):
        con.execute("""update alerts.outbox set status = ?, last_error = coalesce(?, last_error),
                           next_attempt_at = ?, sent_at = case when ? = 'sent' then ? end
                       where message_id = ?""",
                    [status, error, _naive(finished + timedelta(seconds=delay)), status, _naive(finished),
                     message_id])
        con.execute("""update alerts.deliveries set finished_at = ?, outcome = ?, error = ?, retry_after_s = ?
                       where attempt_id = ?""", [_naive(finished), outcome, error, retry_after, attempt_id])
    if status == "sent":
        report.sent += 1
    elif status == "pending":
        report.retried += 1
    else:
        report.failed += 1


def failures(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Messages that will not be delivered, or are still retrying, for the data-health page and the CLI."""
    return con.execute("""
        select created_at, subscription, channel, recipient, status, attempts, last_error
        from alerts.outbox where status = 'failed_permanent' or (status = 'pending' and attempts > 0)
        order by created_at desc""").fetchall()
