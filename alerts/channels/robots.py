"""DingTalk, Feishu/Lark and WeCom group robots: POST the composed JSON to the robot's webhook URL.

These robots answer HTTP 200 even on failure and put the verdict in the body (errcode / code), so we read it:
rate limits are transient, anything else non-zero is permanent. DingTalk signs the URL and Feishu the body,
with HMAC-SHA256 over the timestamp and the secret from the environment (their documented schemes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import time
from typing import Callable
from urllib.parse import urlencode

from alerts.channels import PermanentDeliveryError, TransientDeliveryError
from alerts.channels.webhook import JsonPoster

# Codes that mean "too many messages, try later", with the wait their docs suggest (robots allow ~20 a minute).
_RATE_LIMITED = {
    "dingtalk": {130101: 60.0, 90030: 3600.0},      # send too fast; webhook call quota reached
    "feishu": {11232: 60.0},                          # frequency limited
    "wecom": {45009: 60.0, -1: 30.0},                 # api freq out of limit; system busy
}


class _Robot:
    kind = ""

    def __init__(self, url: str, timeout: float, context: ssl.SSLContext | None = None, *, secret: str = "",
                 clock: Callable[[], float] = time.time):
        self._poster = JsonPoster(url, timeout, context, secrets=(secret,))
        self._url = url
        self._secret = secret
        self._clock = clock

    def _check(self, raw: bytes) -> None:
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            return                                     # not JSON: the HTTP status already said 2xx
        if not isinstance(answer, dict):
            return
        code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
        if not code:
            return
        text = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
        verdict = f"{self._poster.where} refused the message: code {code} {self._poster.clean(str(text))}".strip()
        wait = _RATE_LIMITED[self.kind].get(code)
        if wait is not None:
            raise TransientDeliveryError(verdict, wait)
        raise PermanentDeliveryError(verdict + ". Check the robot's security settings (keywords, IP list, signing).")


class DingTalkSender(_Robot):
    kind = "dingtalk"

    def signed_url(self) -> str:
        timestamp = str(int(self._clock() * 1000))
        digest = hmac.new(self._secret.encode(), f"{timestamp}\n{self._secret}".encode(), hashlib.sha256).digest()
        joiner = "&" if "?" in self._url else "?"
        return self._url + joiner + urlencode({"timestamp": timestamp, "sign": base64.b64encode(digest).decode()})

    def send(self, payload: dict, message_id: str) -> None:
        url = self.signed_url() if self._secret else None
        self._check(self._poster.post(payload, message_id, url=url))


class FeishuSender(_Robot):
    kind = "feishu"

    def signed(self, payload: dict) -> dict:
        timestamp = str(int(self._clock()))
        key = f"{timestamp}\n{self._secret}".encode()
        sign = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        return {"timestamp": timestamp, "sign": sign, **payload}

    def send(self, payload: dict, message_id: str) -> None:
        self._check(self._poster.post(self.signed(payload) if self._secret else payload, message_id))


class WeComSender(_Robot):
    kind = "wecom"

    def send(self, payload: dict, message_id: str) -> None:
        self._check(self._poster.post(payload, message_id))
