"""Routing: gates, owners from the org mapping, storm grouping, cooldown (update, not page) and digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from alerts.dispatch import plan
from alerts.events import Scope
from alerts.routing import History, route
from tests.alerts.factory import NOW, anomaly, budget, health, latency, settings, subscription

HOOK = [dict(name="hook", kind="webhook", url_env="CW_HOOK_URL")]
MAIL = [dict(name="mail", kind="email", smtp_host="127.0.0.1", from_address="alerts@acme.example")]


@dataclass
class Team:
    team: str
    department: str
    owner_email: str


TEAMS = [Team("search", "product", "search-lead@acme.example"), Team("ads", "product", "ads-lead@acme.example"),
         Team("risk", "finance", "risk-lead@acme.example")]


def test_storm_of_50_anomalies_with_one_root_cause_is_one_message():
    storm = [anomaly(f"a{n}", team=f"team-{n}", root_cause="price change: model=gpt-4o", minutes_ago=25 - n * 0.4)
             for n in range(50)]
    unrelated = anomaly("lonely", team="ads")
    messages = route(storm + [unrelated], settings(HOOK, [subscription()]), [], History(), NOW)
    assert sorted(len(m.events) for m in messages) == [1, 50]
    assert all(m.mode == "page" for m in messages)


def test_events_of_one_cause_beyond_the_grouping_window_are_a_second_message_sent_as_an_update():
    early = [anomaly(f"a{n}", root_cause="cause", minutes_ago=200 - n) for n in range(3)]
    late = [anomaly(f"b{n}", root_cause="cause", minutes_ago=100 - n) for n in range(3)]
    messages = route(early + late, settings(HOOK, [subscription()]), [], History(), NOW)
    assert [(m.mode, len(m.events)) for m in messages] == [("page", 3), ("update", 3)]
    assert messages[1].reply_to == messages[0].message_id


def test_ongoing_anomaly_escalation_within_cooldown_is_an_update_and_after_it_a_page(con):
    config = settings(HOOK, [subscription()], cooldown_minutes=60)
    (first,), _ = plan(con, [anomaly(minutes_ago=30)], config, [], NOW)
    assert first.mode == "page"
    escalated = anomaly(kind="escalated", severity="critical", minutes_ago=1)
    (second,), _ = plan(con, [escalated], config, [], NOW)
    assert (second.mode, second.reply_to) == ("update", first.message_id)
    later = NOW + timedelta(hours=3)
    (third,), _ = plan(con, [anomaly(kind="escalated", severity="warning", detected_at=later)], config, [], later)
    assert third.mode == "page"   # the cooldown is over: a fresh escalation pages again


def test_resolved_anomaly_is_an_update_never_a_page():
    (message,) = route([anomaly(kind="resolved")], settings(HOOK, [subscription()]), [], History(), NOW)
    assert message.mode == "update"


def test_rerun_over_the_same_events_routes_nothing_new(con):
    config = settings(HOOK, [subscription()])
    events = [anomaly(), budget(), health(), latency()]
    messages, added = plan(con, events, config, [], NOW)
    assert added == len(messages) == 4
    assert plan(con, events, config, [], NOW + timedelta(minutes=5)) == ([], 0)
    # One new event among old ones: only it is routed.
    messages, added = plan(con, events + [anomaly("new")], config, [], NOW + timedelta(minutes=5))
    assert added == 1 and [e.event_key for e in messages[0].events] == ["anomaly:new:opened:warning"]


def test_severity_and_money_gates_filter_events():
    gated = subscription(min_severity="warning", min_impact_usd=Decimal(100), min_impact_pct=Decimal(10))
    events = [anomaly("small_usd", impact="50"), anomaly("info", severity="info"),
              anomaly("drop", impact="-400"), anomaly("ok"), health(), latency(jitter=Decimal("4.16"))]
    messages = route(events, settings(HOOK, [gated]), [], History(), NOW)
    sent = {e.event_key.split(":")[1] if e.family == "anomaly" else e.family for m in messages for e in m.events}
    # The drop passes (absolute impact); data health has no money impact; latency 4% over SLO is below 10%.
    assert sent == {"drop", "ok", "data_health"}


def test_event_kinds_and_scope_filters_select_events():
    only = subscription(events=["anomaly.escalated", "budget.forecast"], teams=["search"])
    events = [anomaly("opened"), anomaly("esc", kind="escalated"), anomaly("other", kind="escalated", team="ads"),
              budget("actual"), budget("forecast")]
    messages = route(events, settings(HOOK, [only]), [], History(), NOW)
    assert sorted(e.event_type for m in messages for e in m.events) == ["anomaly.escalated", "budget.forecast"]


def test_team_leads_get_their_own_scope_from_the_org_mapping():
    leads = subscription(role="team_lead", channel="mail")
    events = [anomaly("s", team="search"), anomaly("r", team="risk"), budget(scope=Scope(department="product")),
              health()]
    messages = route(events, settings(MAIL, [leads]), TEAMS, History(), NOW)
    got = sorted((m.recipient, e.event_type, e.scope.team) for m in messages for e in m.events)
    # A department-wide budget goes to every lead in the department; org-wide data health to no team lead.
    assert got == [("ads-lead@acme.example", "budget.actual", ""), ("risk-lead@acme.example", "anomaly.opened", "risk"),
                   ("search-lead@acme.example", "anomaly.opened", "search"),
                   ("search-lead@acme.example", "budget.actual", "")]


def test_daily_digest_batches_the_previous_day_once_and_late_events_wait_for_the_next(con):
    finance = subscription("finance", "mail", frequency="daily", recipients=["finops@acme.example"])
    config = settings(MAIL, [finance])
    yesterday = [anomaly(f"y{n}", root_cause="c", minutes_ago=60 * (10 + n)) for n in range(3)]
    today = [budget(detected_at=NOW - timedelta(hours=1))]
    (digest,), added = plan(con, yesterday + today, config, [], NOW)
    assert digest.mode == "digest" and len(digest.events) == 3 and added == 1
    assert (digest.period_start.isoformat(), digest.period_end.isoformat()) == ("2026-03-02", "2026-03-03")
    late = anomaly("late", minutes_ago=60 * 12)           # detected yesterday, but reported after the digest
    assert plan(con, yesterday + today + [late], config, [], NOW + timedelta(hours=2)) == ([], 0)
    tomorrow = NOW + timedelta(days=1)
    (next_digest,), _ = plan(con, yesterday + today + [late], config, [], tomorrow)
    assert sorted(e.event_key for e in next_digest.events) == ["anomaly:late:opened:warning",
                                                               today[0].event_key]


def test_weekly_digest_covers_the_last_whole_iso_week():
    weekly = subscription(frequency="weekly")
    events = [anomaly("last_week", minutes_ago=60 * 24 * 3), anomaly("this_week", minutes_ago=60)]
    (digest,) = route(events, settings(HOOK, [weekly]), [], History(), NOW)
    assert (digest.period_start.isoformat(), digest.period_end.isoformat()) == ("2026-02-23", "2026-03-02")
    assert [e.event_key for e in digest.events] == ["anomaly:last_week:opened:warning"]


def test_message_ids_are_stable_and_differ_per_subscription():
    config = settings(HOOK, [subscription("a"), subscription("b")])
    first = route([anomaly()], config, [], History(), NOW)
    again = route([anomaly()], config, [], History(), NOW + timedelta(minutes=3))
    assert [m.message_id for m in first] == [m.message_id for m in again]
    assert len({m.message_id for m in first}) == 2


def test_two_thresholds_of_one_budget_read_as_one_budget_message():
    from alerts.compose import compose

    config = settings([dict(name="hook", kind="slack", url_env="X")], [subscription()])
    (message,) = route([budget(threshold="80"), budget(threshold="100", severity="critical")], config, [], History(),
                       NOW)
    title = compose(message, config.channel("hook"), config)["text"]
    assert title == "Budget 100% reached: department=product, team=search (2026-03) (and 1 earlier)"
