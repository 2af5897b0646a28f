"""POST JSON to a webhook URL (stdlib urllib) and sort the outcome into sent / transient / permanent.

Timeouts, connection failures, 408, 429 and 5xx are transient (Retry-After honoured); every other 4xx is
permanent. The URL holds the token, so errors name only its host. The generic webhook sender lives here too.
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.error
import urllib.request
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from alerts.channels import PermanentDeliveryError, TransientDeliveryError
from alerts.redact import host_of, redact, url_secrets

USER_AGENT = "costwarden-alerts/1"
_READ_LIMIT = 64 * 1024
_RETRYABLE = {408, 425, 429}


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class JsonPoster:
    """One webhook endpoint. `post` returns the response body of a 2xx, or raises a delivery error."""

    def __init__(self, url: str, timeout: float, context: ssl.SSLContext | None = None, secrets: tuple = ()):
        self._url = url
        self._timeout = timeout
        self._context = context
        self._secrets = (*url_secrets(url), *secrets)
        self.where = host_of(url)

    def clean(self, text: str) -> str:
        return redact(text, self._secrets)

    def post(self, body: dict, message_id: str, url: str | None = None) -> bytes:
        data = json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(url or self._url, data=data, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
            # Receivers that dedupe (and our tests) recognise a resend by this key.
            "Idempotency-Key": message_id})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout, context=self._context) as response:
                return response.read(_READ_LIMIT)
        except urllib.error.HTTPError as exc:
            detail = self.clean(exc.read(512).decode("utf-8", "replace").strip())
            status = f"{self.where} answered HTTP {exc.code}" + (f": {detail}" if detail else "")
            if exc.code in _RETRYABLE or exc.code >= 500:
                raise TransientDeliveryError(status, retry_after_seconds(exc.headers.get("Retry-After"))) from None
            raise PermanentDeliveryError(status + ". Check the webhook URL and the payload.") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise PermanentDeliveryError(f"{self.where}: TLS certificate not trusted ({reason.verify_message}). "
                                             "Set ca_file on the channel for an internal CA.") from None
            raise TransientDeliveryError(f"{self.where} unreachable: {self.clean(str(reason))}") from None
        except TimeoutError:
            raise TransientDeliveryError(f"{self.where} did not answer within {self._timeout:g} s") from None
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            raise TransientDeliveryError(f"{self.where}: connection failed ({type(exc).__name__})") from None


class WebhookSender:
    """Generic JSON webhook: the body carries the idempotency key as "id" as well as the header."""

    def __init__(self, url: str, timeout: float, context: ssl.SSLContext | None = None):
        self._poster = JsonPoster(url, timeout, context)

    def send(self, payload: dict, message_id: str) -> None:
        self._poster.post(payload, message_id)
