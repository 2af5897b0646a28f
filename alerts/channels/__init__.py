"""Senders: each takes a composed payload from the outbox and sends it, nothing else.

A sender raises TransientDeliveryError (worth retrying: timeout, 429, 5xx, a robot's rate limit) or
PermanentDeliveryError (a 4xx, a refused address, bad credentials); both carry only redacted text.
`build_senders` turns [[alerts.channels]] plus the environment into senders, reading secrets only there.
"""

from __future__ import annotations

import os
import ssl
from typing import Mapping, Protocol

from alerts.settings import AlertSettings, ChannelSettings
from costwarden.errors import ConfigError, CostwardenError, TransientError


class TransientDeliveryError(TransientError):
    """Try again later; `retry_after` (seconds) when the receiver said when."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(CostwardenError):
    """Sending this message again will fail the same way; it is recorded and shown, not retried."""


class Sender(Protocol):
    def send(self, payload: dict, message_id: str) -> None: ...


def ssl_context(channel: ChannelSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=channel.ca_file or None)


def _secret(channel: ChannelSettings, variable: str, what: str, environ: Mapping[str, str]) -> str:
    value = environ.get(variable, "")
    if not value:
        # Names the variable, never a value.
        raise ConfigError(f"channel '{channel.name}' needs its {what} in the environment variable {variable}, "
                              "which is not set. Set it where `costwarden alerts` runs.")
    return value


def build_sender(channel: ChannelSettings, environ: Mapping[str, str]) -> Sender:
    from alerts.channels.email import EmailSender
    from alerts.channels.robots import DingTalkSender, FeishuSender, WeComSender
    from alerts.channels.slack import SlackSender
    from alerts.channels.webhook import WebhookSender

    if channel.kind == "email":
        password = _secret(channel, channel.password_env, "SMTP password", environ) if channel.smtp_username else ""
        return EmailSender(channel.smtp_host, channel.smtp_port, channel.smtp_security, channel.smtp_username,
                           password, channel.timeout_seconds, ssl_context(channel))
    url = _secret(channel, channel.url_env, "webhook URL", environ)
    secret = _secret(channel, channel.secret_env, "signing secret", environ) if channel.secret_env else ""
    context = ssl_context(channel)
    if channel.kind == "slack":
        return SlackSender(url, channel.timeout_seconds, context)
    if channel.kind == "webhook":
        return WebhookSender(url, channel.timeout_seconds, context)
    robot = {"dingtalk": DingTalkSender, "feishu": FeishuSender, "wecom": WeComSender}[channel.kind]
    return robot(url, channel.timeout_seconds, context, secret=secret)


def build_senders(settings: AlertSettings, environ: Mapping[str, str] | None = None
                  ) -> tuple[dict[str, Sender], dict[str, str]]:
    """(senders by channel name, problems by channel name). A channel with a problem keeps its messages pending."""
    environ = os.environ if environ is None else environ
    senders, problems = {}, {}
    for channel in settings.channels:
        try:
            senders[channel.name] = build_sender(channel, environ)
        except (CostwardenError, OSError, ssl.SSLError) as exc:
            problems[channel.name] = str(exc)
    return senders, problems
