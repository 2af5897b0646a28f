"""One alerts run: route events against what was already sent, compose, enqueue, then deliver.

Routing and composing finish (and are committed to the outbox) before anything is sent, so a crash at any point
loses no alert; see alerts/outbox.py for the at-least-once boundary. Finding the events is the caller's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping, Sequence

import duckdb

from alerts.channels import build_senders
from alerts.compose import compose
from alerts.events import Event
from alerts.outbox import Delivery, DeliveryReport, deliver_pending, enqueue, load_history
from alerts.routing import AlertMessage, TeamOwner, route
from alerts.settings import AlertSettings


@dataclass(frozen=True)
class RunReport:
    planned: int          # messages routing produced this run
    enqueued: int         # of which new to the outbox (a re-run enqueues none)
    delivery: DeliveryReport


def plan(con: duckdb.DuckDBPyConnection, events: Iterable[Event], settings: AlertSettings,
         teams: Sequence[TeamOwner], now: datetime) -> tuple[list[AlertMessage], int]:
    """Route and compose into the outbox. Returns the messages and how many were new."""
    messages = route(events, settings, teams, load_history(con), now)
    composed = []
    for message in messages:
        channel = settings.channel(message.channel)
        composed.append((message, channel.kind, compose(message, channel, settings)))
    return messages, enqueue(con, composed, now)


def run(con: duckdb.DuckDBPyConnection, events: Iterable[Event], settings: AlertSettings,
        teams: Sequence[TeamOwner], now: datetime, environ: Mapping[str, str] | None = None,
        delivery: Delivery | None = None) -> RunReport:
    messages, added = plan(con, events, settings, teams, now)
    senders, problems = build_senders(settings, environ)
    report = deliver_pending(con, senders, delivery or Delivery(settings), problems)
    return RunReport(len(messages), added, report)
