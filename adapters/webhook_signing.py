"""Signatures of our webhook notices, in the Standard Webhooks form (standardwebhooks.com).

A portal must tell our notices from forgeries, and a replayed old notice from a new one. Each
POST carries three headers:

    webhook-id         the notice id: the same on every retry, for the receiver's deduplication
    webhook-timestamp  Unix seconds when this attempt was signed
    webhook-signature  "v1,<base64 of HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>"

The key is NOTIFY_WEBHOOK_SECRET: either `whsec_<base64 of the key bytes>` (the Standard
Webhooks spelling, usable with their libraries as is) or any other string, used as UTF-8 bytes.
The receiver recomputes the HMAC over the raw body it received, compares in constant time, and
refuses timestamps older or newer than a few minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

PREFIX = "whsec_"
TOLERANCE_SECONDS = 300


class InvalidWebhookSignature(ValueError):
    """The notice is not ours, was changed, or is too old."""


def key_bytes(secret: str) -> bytes:
    if secret.startswith(PREFIX):
        return base64.b64decode(secret[len(PREFIX) :])
    return secret.encode()


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, webhook_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, webhook_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """What a receiver does; raises InvalidWebhookSignature. `headers` keys are lower case."""
    try:
        webhook_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        offered = headers["webhook-signature"].split()
    except (KeyError, ValueError):
        raise InvalidWebhookSignature("missing or malformed webhook-* headers") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidWebhookSignature("timestamp outside the tolerance")
    expected = signature(secret, webhook_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise InvalidWebhookSignature("no signature matches")
