"""The `[alerts]` settings: channels (where messages go) and subscriptions (who gets which events, how often).

Secrets never live here: a webhook URL, SMTP password or signing secret is named by the environment variable
that holds it (`*_env`), and read only when sending (alerts/channels/).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ChannelKind = Literal["slack", "email", "webhook", "dingtalk", "feishu", "wecom"]
WEBHOOK_KINDS = ("slack", "webhook", "dingtalk", "feishu", "wecom")


class _Strict(BaseModel):
    # A typo in the config file is an error, not a silently ignored key.
    model_config = ConfigDict(extra="forbid")


class ChannelSettings(_Strict):
    # Name subscriptions use to refer to this channel; part of every message's idempotency key.
    name: str = Field(min_length=1)
    # slack (incoming webhook, Block Kit), email (SMTP), webhook (generic JSON POST), dingtalk, feishu (also
    # Lark), wecom (WeCom group robot).
    kind: ChannelKind
    # Language of the message text: "en" or "zh" (Simplified Chinese).
    language: Literal["en", "zh"] = "en"
    # Webhook kinds: the environment variable holding the webhook URL (the URL carries the token).
    url_env: str = ""
    # dingtalk / feishu robots with signing enabled: the environment variable holding the signing secret.
    secret_env: str = ""
    # Seconds to wait for the webhook or SMTP server before counting the attempt as a (retried) timeout.
    timeout_seconds: float = Field(default=10.0, gt=0)
    # A PEM file of CA certificates to trust (an internal CA); empty = the system trust store.
    ca_file: str = ""
    # email: SMTP server host name.
    smtp_host: str = ""
    # email: SMTP port (587 for starttls, 465 for tls, 25 for none).
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    # email: "starttls" upgrades a plain connection, "tls" is implicit TLS from the start, "none" sends in clear.
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    # email: SMTP user name; empty = no authentication.
    smtp_username: str = ""
    # email: the environment variable holding the SMTP password (needed when smtp_username is set).
    password_env: str = ""
    # email: the From address.
    from_address: str = ""

    @model_validator(mode="after")
    def _kind_has_what_it_needs(self) -> "ChannelSettings":
        if self.kind == "email":
            missing = [n for n in ("smtp_host", "from_address") if not getattr(self, n)]
            if self.smtp_username and not self.password_env:
                missing.append("password_env")
        else:
            missing = [] if self.url_env else ["url_env"]
        if missing:
            raise ValueError(f"channel '{self.name}' of kind {self.kind} needs {', '.join(missing)}")
        return self


class SubscriptionSettings(_Strict):
    # Name of this subscription; part of every message's idempotency key (renaming it sends again).
    name: str = Field(min_length=1)
    # team_lead: each team's owner (owner_email in [[teams]]) gets events of their own team, and department-wide
    # events of their department. finance / platform: the listed recipients get every matching event.
    role: Literal["team_lead", "finance", "platform"]
    # Email addresses (email channels). For team_lead leave empty to use the owners from [[teams]].
    recipients: list[str] = Field(default_factory=list)
    # Scope filters; an empty list matches everything, otherwise the event's value must be in the list.
    departments: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    # Event families (anomaly, budget, data_health, latency) or exact types (anomaly.opened, anomaly.escalated,
    # anomaly.resolved, budget.actual, budget.forecast, data_health.ingest_stale, data_health.unpriced_models,
    # data_health.unallocated_share, data_health.quarantined_rows, latency.jitter).
    events: list[str] = Field(default_factory=lambda: ["anomaly", "budget"])
    # Name of a channel in [[alerts.channels]].
    channel: str
    # immediate: as events arrive (grouped and cooled down); daily / weekly: one digest per UTC day / ISO week.
    frequency: Literal["immediate", "daily", "weekly"] = "immediate"
    # Events below this severity are not sent: info, warning or critical.
    min_severity: Literal["info", "warning", "critical"] = "warning"
    # Money gates (absolute values): anomalies below this $ / % impact are not sent. Budget events compare the
    # spend and its share of the budget; data-health events have no money impact and always pass.
    min_impact_usd: Decimal = Field(default=Decimal(0), ge=0)
    min_impact_pct: Decimal = Field(default=Decimal(0), ge=0)


_KNOWN_EVENTS = {"anomaly", "anomaly.opened", "anomaly.escalated", "anomaly.resolved", "budget", "budget.actual",
                 "budget.forecast", "data_health", "data_health.ingest_stale", "data_health.unpriced_models",
                 "data_health.unallocated_share", "data_health.quarantined_rows", "latency", "latency.jitter"}


class HealthSettings(_Strict):
    # ingest_stale: a source whose last load that brought new rows is older than this many hours.
    stale_after_hours: Decimal = Field(default=Decimal(48), gt=0)
    # unallocated_share: alert when more than this % of the billed cost (per billing currency) over the last
    # unallocated_window_days of data is __unallocated__ (no request or rule explains it).
    max_unallocated_pct: Decimal = Field(default=Decimal(5), ge=0, le=100)
    unallocated_window_days: int = Field(default=7, ge=1)
    # quarantined_rows: alert when loads of the last 24 hours quarantined more than this many rows of one source.
    max_quarantined_rows: int = Field(default=0, ge=0)


class ModelLatencySlo(_Strict):
    # The model id as it appears in marts.performance_by_model (e.g. "anthropic.claude-3-haiku-20240307-v1:0").
    model: str = Field(min_length=1)
    # This model's jitter SLO: p99 latency at most this many times its p50, per day.
    max_jitter: Decimal = Field(gt=0)


class LatencySettings(_Strict):
    # Jitter SLO for models without their own entry: a day whose p99 latency exceeds max_jitter times its p50
    # is alerted (marts.performance_by_model, column jitter).
    max_jitter: Decimal = Field(default=Decimal(4), gt=0)
    # Days with fewer requests than this are not judged: a p99 of a handful of calls is noise.
    min_requests: int = Field(default=200, ge=1)
    # Judge the newest this many days of the mart each run (a day is judged once; its event goes out once).
    lookback_days: int = Field(default=2, ge=1)
    # Per-model SLOs that override max_jitter.
    models: list[ModelLatencySlo] = Field(default_factory=list)

    def slo_for(self, model: str) -> Decimal:
        return next((m.max_jitter for m in self.models if m.model == model), self.max_jitter)


class ReportSettings(_Strict):
    # Email channel (a name from [[alerts.channels]]) that `costwarden report --send` uses; empty = the first
    # email channel.
    channel: str = ""
    # Who gets the organisation-wide finance report.
    finance_recipients: list[str] = Field(default_factory=list)
    # Department reports go to the owners of the department's teams ([[teams]] owner_email) and these addresses.
    department_recipients: list[str] = Field(default_factory=list)
    # How many movers, anomalies and recommendations each report lists.
    top: int = Field(default=5, ge=1, le=50)


class AlertSettings(_Strict):
    # Base URL of the dashboard; message links point at its pages.
    dashboard_url: str = "http://localhost:8501"
    # Anomalies and budget crossings older than this many days (before the newest data) are history, not alerts:
    # a first run over a long backfill does not page for last quarter.
    lookback_days: int = Field(default=14, ge=1)
    # An ongoing anomaly (or storm) paged within this many minutes is sent as an update, not a new page.
    cooldown_minutes: int = Field(default=240, ge=0)
    # Events with one root cause detected within this many minutes of the first become one message.
    grouping_window_minutes: int = Field(default=30, ge=0)
    # Delivery: attempts per message before giving up (recorded as failed, shown on the data-health page).
    max_attempts: int = Field(default=8, ge=1)
    # Delivery: first retry delay in seconds; doubles each attempt (with jitter) up to backoff_max_seconds.
    backoff_base_seconds: float = Field(default=30.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
    # Delivery: a retry due within this many seconds waits in the same run; later ones wait for the next run.
    retry_within_run_seconds: float = Field(default=120.0, ge=0)
    channels: list[ChannelSettings] = Field(default_factory=list)
    subscriptions: list[SubscriptionSettings] = Field(default_factory=list)
    health: HealthSettings = Field(default_factory=HealthSettings)
    latency: LatencySettings = Field(default_factory=LatencySettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)

    @model_validator(mode="after")
    def _references_resolve(self) -> "AlertSettings":
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            raise ValueError("channel names must be unique")
        kinds = {c.name: c.kind for c in self.channels}
        seen = set()
        for sub in self.subscriptions:
            if sub.name in seen:
                raise ValueError(f"subscription name '{sub.name}' is used twice")
            seen.add(sub.name)
            if sub.channel not in kinds:
                raise ValueError(f"subscription '{sub.name}' uses channel '{sub.channel}', which is not in "
                                 f"[[alerts.channels]] ({', '.join(names) or 'none defined'})")
            unknown = sorted(set(sub.events) - _KNOWN_EVENTS)
            if unknown:
                raise ValueError(f"subscription '{sub.name}' lists unknown events {unknown}")
            if kinds[sub.channel] == "email" and sub.role != "team_lead" and not sub.recipients:
                raise ValueError(f"subscription '{sub.name}' sends email but lists no recipients")
        if self.reports.channel and kinds.get(self.reports.channel) != "email":
            raise ValueError(f"[alerts.reports] channel '{self.reports.channel}' must name an email channel in "
                             "[[alerts.channels]]")
        return self

    def channel(self, name: str) -> ChannelSettings:
        return next(c for c in self.channels if c.name == name)
