"""Alert events and settings built in code for the alerts tests, at fixed times so output is deterministic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from alerts.events import AnomalyEvent, BudgetEvent, DataHealthEvent, Driver, LatencyEvent, Scope
from alerts.settings import AlertSettings

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
DASHBOARD = "https://costwarden.example.com"


def anomaly(anomaly_id: str = "a1", kind: str = "opened", team: str = "search", severity: str = "warning",
            minutes_ago: float = 10, impact: str = "434.56", root_cause: str = "", **over) -> AnomalyEvent:
    impact_usd = Decimal(impact)
    fields = dict(
        anomaly_id=anomaly_id, kind=kind, scope=Scope(department="product", team=team, model="gpt-4o"),
        series="cost_usd per hour", start=NOW - timedelta(hours=3), detected_at=NOW - timedelta(minutes=minutes_ago),
        expected_usd=Decimal("800.00"), actual_usd=Decimal("800.00") + impact_usd, impact_usd=impact_usd,
        impact_pct=impact_usd / Decimal("800.00") * 100, severity=severity, root_cause=root_cause,
        drivers=(Driver("model=gpt-4o", Decimal("300.10")), Driver("agent=triage-bot", Decimal("90.46")),
                 Driver("application=search-api", Decimal("30")), Driver("region=us-east-1", Decimal("14"))))
    fields.update(over)
    return AnomalyEvent(**fields)


def budget(basis: str = "actual", threshold: str = "80", team: str = "search", **over) -> BudgetEvent:
    fields = dict(scope=Scope(department="product", team=team), period="2026-03", threshold_pct=Decimal(threshold),
                  basis=basis, amount_usd=Decimal("8123.40"), budget_usd=Decimal("10000"),
                  detected_at=NOW - timedelta(hours=2), severity="warning", runway_date=date(2026, 3, 24))
    fields.update(over)
    return BudgetEvent(**fields)


def health(check: str = "ingest_stale", subject: str = "aws-cur", **over) -> DataHealthEvent:
    fields = dict(check=check, subject=subject, value=Decimal("30"), threshold=Decimal("24"),
                  detected_at=NOW - timedelta(hours=1), severity="warning")
    fields.update(over)
    return DataHealthEvent(**fields)


def latency(model: str = "claude-3-haiku", **over) -> LatencyEvent:
    fields = dict(scope=Scope(model=model), provider="aws.bedrock", window_start=NOW - timedelta(hours=1),
                  window_end=NOW, jitter=Decimal("8.4"), slo=Decimal("4"), p50_ms=Decimal("380"),
                  p99_ms=Decimal("3192"), requests=1250,
                  detected_at=NOW - timedelta(minutes=5), severity="critical")
    fields.update(over)
    return LatencyEvent(**fields)


def settings(channels: list[dict], subscriptions: list[dict], **over) -> AlertSettings:
    data = dict(dashboard_url=DASHBOARD, cooldown_minutes=240, grouping_window_minutes=30, max_attempts=6,
                backoff_base_seconds=1.0, backoff_max_seconds=60.0, retry_within_run_seconds=120.0,
                channels=channels, subscriptions=subscriptions)
    data.update(over)
    return AlertSettings.model_validate(data)


def subscription(name: str = "leads", channel: str = "hook", **over) -> dict:
    fields = dict(name=name, role="platform", channel=channel, min_severity="info",
                  events=["anomaly", "budget", "data_health", "latency"])
    fields.update(over)
    return fields


class FakeClock:
    """A clock that only moves when the code under test sleeps: retries run instantly and deterministically."""

    def __init__(self, start: datetime = NOW):
        self.moment = start
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.moment += timedelta(seconds=seconds)

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)
