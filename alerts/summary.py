"""An AlertMessage as language-specific text (a Card): title, intro, one item per event. Pure.

Channel renderers in alerts/compose.py and alerts/compose_email.py turn a Card into Slack blocks, markdown or
an email; keeping the wording here means every channel says the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from datetime import timedelta
from urllib.parse import urlencode

from alerts.events import SEVERITIES, AnomalyEvent, BudgetEvent, DataHealthEvent, Event, LatencyEvent
from alerts.routing import AlertMessage, utc
from alerts.strings import day, number, pct, t, usd, when

_UNITS = {"ingest_stale": "hours", "unpriced_models": "models", "unallocated_share": "percent",
          "quarantined_rows": "rows"}
_LIST_PAGES = {"anomaly": "/anomalies", "budget": "/budgets", "data_health": "/data_health", "latency": "/latency"}


@dataclass(frozen=True)
class Item:
    title: str
    severity: str                          # info | warning | critical (untranslated, for colours)
    facts: tuple[tuple[str, str], ...]     # (label, value) pairs
    drivers: tuple[str, ...]               # the top three, as text
    link: str
    headline: str                          # one line for lists: severity, title, impact


@dataclass(frozen=True)
class Card:
    title: str
    intro: str
    items: tuple[Item, ...]
    link: str
    severity: str                          # the highest among the items
    message_id: str


def link(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def scope_text(event: Event, lang: str) -> str:
    return ", ".join(f"{k}={v}" for k, v in event.scope.items()) or t(lang, "all_scope")


def item(event: Event, lang: str, base_url: str) -> Item:
    scope = scope_text(event, lang)
    severity = t(lang, event.severity)
    facts: list[tuple[str, str]] = []
    drivers: tuple[str, ...] = ()
    impact = ""
    if isinstance(event, AnomalyEvent):
        title = t(lang, event.event_type, scope=scope, severity=severity)
        if event.unit == "USD":
            amount = usd
            impact = f"{usd(event.impact_usd, signed=True)} ({pct(event.impact_pct, signed=True)})"
        else:  # a metric that is not money (requests, latency): its own unit, plus the $ effect when priced
            def amount(value, signed=False, unit=event.unit):
                return ("+" if signed and value > 0 else "") + f"{number(value)} {unit}"
            impact = f"{amount(event.actual_usd - event.expected_usd, True)} ({pct(event.impact_pct, signed=True)})"
            if event.impact_usd:
                impact += f", {usd(event.impact_usd, signed=True)}"
        facts = [(t(lang, "scope"), scope), (t(lang, "series"), event.series),
                 (t(lang, "actual_vs_expected"), t(lang, "vs", actual=amount(event.actual_usd),
                                                   expected=amount(event.expected_usd))),
                 (t(lang, "impact"), impact), (t(lang, "severity"), severity),
                 (t(lang, "started"), when(utc(event.start)))]
        if event.end is not None:
            facts.append((t(lang, "ended"), when(utc(event.end))))
        if event.root_cause:
            facts.append((t(lang, "root_cause"), event.root_cause))
        drivers = tuple(f"{d.name}: {usd(d.impact_usd, signed=True)}" for d in event.drivers[:3])
    elif isinstance(event, BudgetEvent):
        threshold = t(lang, "percent", n=number(event.threshold_pct))
        title = t(lang, event.event_type, threshold=threshold, scope=scope, period=event.period)
        impact = t(lang, "of_budget", amount=usd(event.amount_usd), budget=usd(event.budget_usd),
                   pct=pct(event.impact_pct))
        facts = [(t(lang, "scope"), scope), (t(lang, "period"), event.period),
                 (t(lang, f"spend_{event.basis}"), impact), (t(lang, "threshold"), threshold),
                 (t(lang, "severity"), severity)]
        if event.runway_date:
            facts.append((t(lang, "runway"), day(event.runway_date)))
    elif isinstance(event, DataHealthEvent):
        title = t(lang, event.event_type, subject=event.subject)
        unit = _UNITS[event.check]
        impact = t(lang, "value_vs_threshold", value=t(lang, unit, n=number(event.value)),
                   threshold=t(lang, unit, n=number(event.threshold)))
        facts = [(t(lang, "check"), event.check), (t(lang, "subject"), event.subject), (t(lang, "value"), impact),
                 (t(lang, "severity"), severity)]
        if event.details:
            facts.append((t(lang, "details"), ", ".join(event.details)))
    else:
        assert isinstance(event, LatencyEvent)
        title = t(lang, event.event_type, scope=scope)
        impact = t(lang, "jitter_vs_slo", jitter=f"{number(event.jitter)}x", slo=f"{number(event.slo)}x")
        facts = [(t(lang, "scope"), scope), (t(lang, "provider"), event.provider), (t(lang, "jitter"), impact)]
        if event.p50_ms is not None and event.p99_ms is not None:
            facts.append((t(lang, "latency"), f"{number(event.p50_ms)} ms / {number(event.p99_ms)} ms"))
        if event.requests is not None:
            facts.append((t(lang, "requests"), number(Decimal(event.requests))))
        facts += [(t(lang, "window"), f"{when(utc(event.window_start))} - {when(utc(event.window_end))}"),
                  (t(lang, "severity"), severity)]
    headline = f"{severity} · {title} · {impact}"
    return Item(title, event.severity, tuple(facts), drivers, link(base_url, event.link_path()), headline)


def card(message: AlertMessage, lang: str, base_url: str) -> Card:
    items = tuple(item(e, lang, base_url) for e in message.events)
    severity = max((e.severity for e in message.events), key=SEVERITIES.index)
    first = message.events[0]
    if message.mode == "digest":
        key = "digest." + ("daily" if message.group_key.startswith("digest:daily") else "weekly")
        last = message.period_end - timedelta(days=1)
        title = t(lang, key, start=day(message.period_start), last=day(last))
        return Card(title, t(lang, "digest_intro", count=len(items)), items, link(base_url, "/"), severity,
                    message.message_id)
    if len(items) == 1:
        title, intro, target = items[0].title, "", items[0].link
    else:
        if message.group_key.startswith(("budget:", "anomaly:")):
            # One budget or anomaly with several events (80% and 100% crossed together): the gravest, and a count.
            top = max(range(len(items)), key=lambda i: (SEVERITIES.index(message.events[i].severity),
                                                        utc(message.events[i].detected_at), i))
            title = t(lang, "group_thread", title=items[top].title, count=len(items) - 1)
        else:
            cause = message.group_key.split(":", 1)[1] if message.group_key.startswith("cause:") \
                else message.group_key
            title = t(lang, "group", count=len(items), cause=cause)
        intro = t(lang, "group_intro", count=len(items))
        target = link(base_url, _LIST_PAGES[first.family] + "?" + urlencode({"group": message.group_key}))
    if message.mode == "update":
        title = t(lang, "update", title=title)
        intro = " ".join(p for p in (t(lang, "update_intro"), intro) if p)
    return Card(title, intro, items, target, severity, message.message_id)
