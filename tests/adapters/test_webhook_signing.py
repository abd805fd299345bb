"""Signed notices (Standard Webhooks): the portal accepts ours and refuses a tampered or replayed one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest

from adapters.db import Database, migrate_async
from adapters.notifications import Notice, Notifier
from adapters.webhook_signing import InvalidWebhookSignature, signature, signed_headers, verify

SECRET = "whsec_" + base64.b64encode(b"portal-shared-key-32-bytes-long!").decode()
NOTICE = Notice("app-7", "renewed", "GD4010101234567", "Thẻ BHYT đã được gia hạn", {"valid_to": "2027-12-31"})


def test_signature_is_the_standard_webhooks_hmac() -> None:
    body = b'{"a": 1}'
    expected = base64.b64encode(
        hmac.new(b"portal-shared-key-32-bytes-long!", b"msg_1.1700000000." + body, hashlib.sha256).digest()
    ).decode()
    assert signature(SECRET, "msg_1", 1700000000, body) == "v1," + expected


def test_plain_secret_is_used_as_its_bytes() -> None:
    body = b"{}"
    digest = hmac.new(b"plain-secret", b"id.1.{}", hashlib.sha256).digest()
    assert signature("plain-secret", "id", 1, body) == "v1," + base64.b64encode(digest).decode()


@pytest.fixture
async def db(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    await migrate_async(url)
    database = Database(url)
    yield database
    await database.dispose()


async def test_delivered_notice_verifies_and_a_tampered_one_does_not(db: Database) -> None:
    received: list[httpx.Request] = []

    def portal(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    notifier = Notifier(db, "http://portal.test/hook", httpx.MockTransport(portal), signing_secret=SECRET)
    await notifier.send(NOTICE)
    [request] = received
    headers = {k.lower(): v for k, v in request.headers.items()}
    body = request.content
    assert headers["webhook-id"] == NOTICE.notice_id == headers["idempotency-key"]
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    verify(SECRET, headers, body)  # the portal's check passes
    assert json.loads(body)["application_id"] == "app-7"

    tampered = body.replace(b"2027-12-31", b"2099-12-31")
    with pytest.raises(InvalidWebhookSignature, match="no signature matches"):
        verify(SECRET, headers, tampered)
    with pytest.raises(InvalidWebhookSignature):
        verify("whsec_" + base64.b64encode(b"another key").decode(), headers, body)
    with pytest.raises(InvalidWebhookSignature):  # an id swapped onto a valid body and signature
        verify(SECRET, {**headers, "webhook-id": "other"}, body)


def test_replayed_notice_outside_the_tolerance_is_refused() -> None:
    body = b'{"kind": "renewed"}'
    old = signed_headers(SECRET, "msg_1", body, now=time.time() - 3600)
    with pytest.raises(InvalidWebhookSignature, match="timestamp"):
        verify(SECRET, old, body)
    with pytest.raises(InvalidWebhookSignature, match="missing"):
        verify(SECRET, {"webhook-id": "x"}, body)
