"""Keep secrets out of logs, errors and the outbox: webhook URLs carry tokens, SMTP has passwords.

`redact` replaces every known secret (and its URL-encoded forms) and cuts every URL down to its host, so even a
secret we were not told about (a token in a redirect target) does not leak through an error message.
"""

from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

MASK = "***"
_URL = re.compile(r"(?i)\b((?:https?|wss?)://[^/\s?#'\"<>]+)[^\s'\"<>]*")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, MASK)
    return _URL.sub(lambda m: m.group(1) + "/" + MASK if m.group(0) != m.group(1) else m.group(1), text)


def host_of(url: str) -> str:
    """What an error may say about a webhook: scheme and host, never the path or query holding the token."""
    found = _URL.search(url)
    return found.group(1) if found else MASK


def url_secrets(url: str) -> tuple[str, ...]:
    """The URL and every part of it that may be a token (path segments, query values), for `redact`: a receiver
    may echo the token alone in its error text."""
    parts = urlsplit(url)
    pieces = [seg for seg in parts.path.split("/") if len(seg) >= 8]
    pieces += [value for _, value in parse_qsl(parts.query) if len(value) >= 8]
    return (url, *pieces)
