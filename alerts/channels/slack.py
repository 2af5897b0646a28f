"""Slack incoming webhooks: POST the Block Kit payload; Slack answers "ok" or an HTTP error with a reason.

Slack's reasons (invalid_payload 400, action_prohibited 403, no_service 404, channel_is_archived 410) are
permanent; rate_limited (429 with Retry-After) and 5xx are retried by the outbox.
"""

from __future__ import annotations

import ssl

from alerts.channels.webhook import JsonPoster


class SlackSender:
    def __init__(self, url: str, timeout: float, context: ssl.SSLContext | None = None):
        self._poster = JsonPoster(url, timeout, context)

    def send(self, payload: dict, message_id: str) -> None:
        self._poster.post(payload, message_id)
