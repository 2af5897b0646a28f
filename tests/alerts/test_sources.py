"""Events from the warehouse: anomaly lifecycle from analytics.anomalies, budget crossings, data health, latency.

The same occurrence always yields the same event key, whatever the run; state changes are recorded once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from alerts.settings import AlertSettings
from alerts.sources import collect
from tests.alerts import warehouse_rows as rows

NOW = datetime(2026, 10, 31, 8, 0, tzinfo=UTC)
CONFIG = AlertSettings()


def _events(con, now=NOW, config=CONFIG, sources=()):
    return collect(con, config, now, sources).events


def _keys(events):
    return [e.event_key for e in events]


def test_anomaly_lifecycle_opened_escalated_resolved_reopened_with_stable_keys(con):
    rows.anomaly(con)
    first = _events(con)
    assert _keys(first) == ["anomaly:an-1:opened:warning"]
    again = _events(con, NOW + timedelta(hours=1))
    assert again == first                       # same key, same detected_at (the time the change was recorded)

    rows.anomaly(con, severity="critical")
    escalated = _events(con, NOW + timedelta(hours=2))
    assert _keys(escalated) == ["anomaly:an-1:opened:warning", "anomaly:an-1:escalated:critical"]
    rows.anomaly(con, severity="warning")       # calming down is not an escalation
    assert _keys(_events(con, NOW + timedelta(hours=3))) == _keys(escalated)

    rows.anomaly(con, status="resolved", end_at=datetime(2026, 10, 30, 12))
    resolved = _events(con, NOW + timedelta(hours=4))
    assert _keys(resolved)[-1] == "anomaly:an-1:resolved:warning" and len(resolved) == 3
    assert resolved[-1].detected_at == NOW + timedelta(hours=4)

    rows.anomaly(con, status="open", severity="warning")
    reopened = _events(con, NOW + timedelta(hours=5))
    assert _keys(reopened)[-1] == "anomaly:an-1:opened:warning:1" and len(set(_keys(reopened))) == 4


def test_anomaly_event_carries_scope_drivers_root_cause_and_money(con):
    rows.anomaly(con)
    (event,) = _events(con)
    assert (event.scope.department, event.scope.team, event.scope.agent) == ("marketing", "growth", "campaign-writer")
    assert [d.name for d in event.drivers[:3]] == ["agent=campaign-writer (volume)", "model=claude-3-5-sonnet (mix)",
                                                   "region=us-east-1 (volume)"]
    assert event.drivers[0].impact_usd == Decimal("1100.25")
    assert event.impact_usd == Decimal("1234.50") and event.group_key == "cause:agent=campaign-writer"
    assert (event.expected_usd, event.actual_usd, event.unit) == (Decimal("400.00"), Decimal("1634.50"), "USD")


def test_not_alertable_suppressed_or_old_anomalies_are_not_events(con):
    rows.anomaly(con, "below-gates", alertable=False)
    rows.anomaly(con, "planned", suppressed_by="planned:black-friday")
    rows.anomaly(con, "old", status="resolved", start_at=datetime(2026, 8, 1), end_at=datetime(2026, 8, 2),
                 last_point_at=datetime(2026, 8, 2))
    rows.anomaly(con, "newest", last_point_at=datetime(2026, 10, 31))
    assert _keys(_events(con)) == ["anomaly:newest:opened:warning"]
    wide = AlertSettings(lookback_days=120)
    assert sorted(_keys(_events(con, config=wide))) == ["anomaly:newest:opened:warning", "anomaly:old:opened:warning"]


def test_an_anomaly_first_seen_over_is_one_opened_event_that_says_when_it_ended(con):
    rows.anomaly(con, status="resolved", end_at=datetime(2026, 10, 30, 6))
    (event,) = _events(con)
    assert event.kind == "opened" and event.end == datetime(2026, 10, 30, 6, tzinfo=UTC)
    assert len(_events(con, NOW + timedelta(days=1))) == 1


def test_non_money_metric_keeps_its_unit(con):
    rows.anomaly(con, metric="requests")
    (event,) = _events(con)
    assert event.unit == "requests" and event.series == "requests per day"


def test_budget_crossings_become_events_with_period_and_severity(con):
    rows.crossing(con, threshold=80, basis="actual")
    rows.crossing(con, "growth-forecast", threshold=100, basis="forecast")
    events = _events(con)
    assert _keys(events) == ["budget:department=marketing,team=growth:2026-10:actual:80",
                             "budget:department=marketing,team=growth:2026-10:forecast:100"]
    actual, forecast = events
    assert (actual.severity, forecast.severity) == ("warning", "warning")
    assert actual.amount_usd == Decimal("8000.00") and actual.budget_usd == Decimal("10000.00")
    assert actual.runway_date == date(2026, 10, 29)
    assert _keys(_events(con, NOW + timedelta(hours=6))) == _keys(events)


def _load(con, source, finished, rows_loaded=10, quarantined=0, load_id=None):
    load_id = load_id or f"{source}-{finished:%H%M%S%f}"
    con.execute("""insert into meta.loads (load_id, started_at, finished_at, source_name, source_uri, format, status,
                   rows_read, rows_loaded, rows_quarantined) values (?, ?, ?, ?, 'file:///x', 'bedrock', 'ok',
                   ?, ?, ?)""", [load_id, finished - timedelta(minutes=1), finished, source,
                                 rows_loaded + quarantined, rows_loaded, quarantined])
    return load_id


def test_stale_source_and_quarantined_rows(con):
    naive = NOW.replace(tzinfo=None)
    _load(con, "cur", naive - timedelta(hours=80))
    _load(con, "cur", naive - timedelta(hours=2), rows_loaded=0)          # ran, but brought nothing new
    _load(con, "logs", naive - timedelta(hours=3))
    bad = _load(con, "logs", naive - timedelta(hours=1), quarantined=3)
    for line in (1, 2, 3):
        con.execute("insert into meta.quarantine values (?, 'bedrock', 'file:///x', ?, ?, 'tokens', '-1', ?)",
                    [bad, line, "negative token count" if line < 3 else "bad timestamp", naive])
    events = {e.check: e for e in _events(con)}
    stale = events["ingest_stale"]
    assert (stale.subject, stale.value, stale.threshold, stale.severity) == ("cur", Decimal("80.0"), 48, "warning")
    quarantined = events["quarantined_rows"]
    assert quarantined.subject == "logs" and quarantined.value == 3
    assert quarantined.details == ("2 x negative token count", "1 x bad timestamp")
    assert stale.event_key == "health:ingest_stale:cur:2026-10-31"       # once per check, subject and day
    # A source no longer configured is not stale.
    assert "ingest_stale" not in {e.check for e in _events(con, sources=["logs"])}


def test_unpriced_models_and_unallocated_share(con):
    con.execute("create schema if not exists intermediate; create schema if not exists marts")
    con.execute("""create table intermediate.int_requests_priced as select *, model as model_id from (values
        ('aws.bedrock', 'acme/ft-1', 'unpriced', date '2026-10-30'),
        ('aws.bedrock', 'acme/ft-1', 'unpriced', date '2026-10-30'),
        ('aws.bedrock', 'arn:aws:bedrock:us-east-1:1:provisioned-model/pt', 'unpriced', date '2026-10-30'),
        ('openai', 'gpt-9', 'unpriced', date '2026-10-29'),
        ('openai', 'gpt-old', 'unpriced', date '2026-09-01'),
        ('openai', 'gpt-4o', 'priced', date '2026-10-30'))
        t(provider, model, price_status, usage_date)""")
    con.execute("insert into ref.capacity values (1, 'pt', '%', 'arn:aws:bedrock:%:provisioned-model/%', 'tokens', "
                "1000, 'central', null, null)")
    con.execute("""create table marts.allocated_cost as select * from (values
        (date '2026-10-30', 'USD', 'tokens', 90.0::decimal(38, 10)),
        (date '2026-10-30', 'USD', 'unallocated', 10.0::decimal(38, 10)),
        (date '2026-10-30', 'EUR', 'tokens', 99.0::decimal(38, 10)),
        (date '2026-10-30', 'EUR', 'unallocated', 1.0::decimal(38, 10)),
        (date '2026-09-01', 'USD', 'unallocated', 900.0::decimal(38, 10)))
        t(day, billing_currency, cost_kind, billed_cost)""")
    events = {e.check: e for e in _events(con)}
    unpriced = events["unpriced_models"]
    assert unpriced.value == 2 and unpriced.details == ("aws.bedrock/acme/ft-1 (2 requests)",
                                                        "openai/gpt-9 (1 requests)")
    share = events["unallocated_share"]
    assert (share.subject, share.value, share.severity) == ("billed cost USD", Decimal("10.0"), "warning")
    assert len([e for e in _events(con) if e.check == "unallocated_share"]) == 1     # EUR at 1% is fine


def test_latency_jitter_above_the_models_slo(con):
    config = AlertSettings.model_validate({"latency": {"max_jitter": 4, "min_requests": 100, "models": [
        {"model": "claude-3-haiku", "max_jitter": 2}]}})
    rows.performance_by_model(con, [
        (date(2026, 10, 30), "aws.bedrock", "claude-3-haiku", 500, 400.0, 1000.0),    # 2.5x > its own SLO 2
        (date(2026, 10, 30), "aws.bedrock", "nova-lite", 500, 300.0, 1000.0),         # 3.3x < default 4
        (date(2026, 10, 30), "aws.bedrock", "nova-pro", 50, 100.0, 2000.0),           # too few requests
        (date(2026, 10, 31), "aws.bedrock", "nova-lite", 900, 200.0, 1800.0),         # 9x: critical
        (date(2026, 10, 20), "aws.bedrock", "nova-lite", 900, 200.0, 1800.0)])        # older than lookback
    events = _events(con, config=config)
    assert [(e.scope.model, e.jitter, e.slo, e.severity) for e in events] == [
        ("claude-3-haiku", Decimal("2.50"), 2, "warning"), ("nova-lite", Decimal("9.00"), 4, "critical")]
    assert events[0].event_key == "latency:aws.bedrock:claude-3-haiku:2026-10-30T00:00:00+00:00"
    assert (events[0].p50_ms, events[0].p99_ms, events[0].requests) == (400, 1000, 500)


def test_missing_relations_are_notes_not_errors(con):
    found = collect(con, CONFIG, NOW)
    assert found.events == []
    assert any("marts.performance_by_model does not exist yet" in n for n in found.notes)


def test_detector_drivers_show_who_changed_before_how(con):
    # The detector's shape: effects (name = effect) and a decomposition by dimension; versions and token types
    # restate the model and are left out.
    rows.anomaly(con, root_cause="model_mix: agent=code-review-bot", drivers=[
        {"name": "volume", "effect": "volume", "impact_cost": 50.45},
        {"name": "model_mix", "effect": "model_mix", "impact_cost": 25.93},
        {"name": "model=claude-3-7-sonnet", "dimension": "model", "impact_cost": 93.69, "share": 1.0},
        {"name": "model_version=v1:0", "dimension": "model_version", "impact_cost": 93.44},
        {"name": "agent=code-review-bot", "dimension": "agent", "impact_cost": 93.70, "share": 1.0},
        {"name": "agent=coding-assistant", "dimension": "agent", "impact_cost": -0.49},
        {"name": "token_type=input", "dimension": "token_type", "impact_cost": 83.18}])
    (event,) = _events(con)
    assert [d.name for d in event.drivers] == ["agent=code-review-bot", "model=claude-3-7-sonnet",
                                               "agent=coding-assistant", "effect: volume", "effect: model_mix"]
    assert event.group_key == "cause:agent=code-review-bot"     # same culprit as "volume: agent=code-review-bot"
