"""Password hashing for local dashboard users: scrypt from the standard library (memory-hard, no extra package).

Stored form: scrypt$<log2 n>$<r>$<p>$<salt, base64>$<hash, base64>. Verification uses a constant-time compare.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

LOG2_N, R, P = 15, 8, 1          # about 32 MiB and 60 ms per check on a laptop: slow for guessers, fine for sign-in
_MAXMEM = 64 * 1024 * 1024
_DKLEN = 64


def hash_password(password: str, *, log2_n: int = LOG2_N) -> str:
    if not password:
        raise ValueError("the password is empty")
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2 ** log2_n, r=R, p=P, maxmem=_MAXMEM,
                            dklen=_DKLEN)
    return "$".join(["scrypt", str(log2_n), str(R), str(P), base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()])


def verify_password(password: str, stored: str) -> bool:
    """True when password matches the stored hash; False for any malformed hash (never an exception)."""
    try:
        kind, log2_n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt" or not 10 <= int(log2_n) <= 20:
            return False
        expected = base64.b64decode(digest, validate=True)
        if len(expected) != _DKLEN:         # a truncated hash must not verify against its prefix
            return False
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt, validate=True),
                                n=2 ** int(log2_n), r=int(r), p=int(p), maxmem=_MAXMEM, dklen=_DKLEN)
    except (ValueError, TypeError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)
