"""The notifier: an idempotent outbox, and a webhook posted at least once (httpx.MockTransport)."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.db import Database, migrate_async
from adapters.notifications import (
    Notice,
    NotificationDeliveryError,
    NotificationRejectedError,
    Notifier,
)

WEBHOOK = "http://notify.test/hook"
NOTICE = Notice(
    application_id="app-1",
    kind="renewed",
    recipient="GD4010101234567",
    message="Người tham gia tiếp tục sử dụng thẻ BHYT (đã cấp) đi khám chữa bệnh kể từ ngày nhận được thông báo này",
    payload={"valid_to": "2027-11-30"},
)


@pytest.fixture
async def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    await migrate_async(url)
    database = Database(url)
    yield database
    await database.dispose()


class Hook:
    """A webhook that answers the given status codes in turn, then 200, and keeps what it got."""

    def __init__(self, *codes: int) -> None:
        self.codes = list(codes)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.codes.pop(0) if self.codes else 200)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


async def test_send_posts_once_and_a_second_send_does_nothing(db):
    hook = Hook()
    notifier = Notifier(db, WEBHOOK, hook.transport, backoff_seconds=0)
    assert await notifier.send(NOTICE) is True
    assert await notifier.send(NOTICE) is False
    assert len(hook.requests) == 1
    body = json.loads(hook.requests[0].content)
    assert (
        body["kind"] == "renewed"
        and body["recipient"] == NOTICE.recipient
        and body["payload"] == NOTICE.payload
    )
    assert hook.requests[0].headers["Idempotency-Key"] == NOTICE.notice_id == body["id"]
    assert await notifier.status(NOTICE) == ("delivered", 1)


async def test_transient_failures_are_retried_quickly(db):
    hook = Hook(503, 502)
    notifier = Notifier(db, WEBHOOK, hook.transport, backoff_seconds=0)
    assert await notifier.send(NOTICE) is True
    assert len(hook.requests) == 3
    assert await notifier.status(NOTICE) == ("delivered", 3)


async def test_a_webhook_that_keeps_failing_raises_a_retryable_error_and_stays_pending(db):
    hook = Hook(500, 500, 500)
    notifier = Notifier(db, WEBHOOK, hook.transport, attempts=3, backoff_seconds=0)
    with pytest.raises(NotificationDeliveryError) as caught:
        await notifier.send(NOTICE)
    assert NOTICE.recipient not in str(caught.value) and NOTICE.message not in str(caught.value)
    assert await notifier.status(NOTICE) == ("pending", 3)
    # the activity's retry: the row exists, still pending, so it posts again and succeeds
    assert await notifier.send(NOTICE) is False
    assert await notifier.status(NOTICE) == ("delivered", 4)
    assert len(hook.requests) == 4


async def test_transport_errors_count_as_failed_attempts(db):
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    notifier = Notifier(
        db, WEBHOOK, httpx.MockTransport(broken), attempts=2, backoff_seconds=0, retry_base_seconds=0
    )
    with pytest.raises(NotificationDeliveryError):
        await notifier.send(NOTICE)
    assert await notifier.status(NOTICE) == ("pending", 2)
    assert await Notifier(db, WEBHOOK, Hook().transport).retry_pending() == 1
    assert await notifier.status(NOTICE) == ("delivered", 3)


async def test_a_refusing_webhook_is_not_retried_in_a_loop(db):
    hook = Hook(422)
    notifier = Notifier(db, WEBHOOK, hook.transport, backoff_seconds=0)
    with pytest.raises(NotificationRejectedError):
        await notifier.send(NOTICE)
    assert len(hook.requests) == 1


async def test_without_a_webhook_the_notice_waits_in_the_outbox(db):
    notifier = Notifier(db, None)
    assert await notifier.send(NOTICE) is True
    assert await notifier.send(NOTICE) is False
    assert await notifier.status(NOTICE) == ("pending", 0)
    other = Notice("app-1", "renewed", "GD4010101234568", NOTICE.message, {})
    assert await notifier.send(other) is True


async def test_the_notice_activities_only_write_the_outbox(db):
    """Issue 10 finding 7: a down webhook never holds up a run — the activity posts nothing; the
    worker's sweeper delivers it later."""
    from activities.inputs import NoticeRequest
    from activities.notify import NotificationActivities

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("webhook down", request=request)

    notifier = Notifier(db, WEBHOOK, httpx.MockTransport(down), attempts=3, backoff_seconds=0)
    request = NoticeRequest(application_id="app-7", kind="payment_due", recipient="declarant", message="m")
    assert await NotificationActivities(notifier).send_notice(request) is True
    due = Notice("app-7", "payment_due", "declarant", "m", {})
    assert await notifier.status(due) == ("pending", 0)  # nothing posted by the activity
    hook = Hook()
    assert await Notifier(db, WEBHOOK, hook.transport).retry_pending() == 1
    assert await notifier.status(due) == ("delivered", 1)


async def test_a_notice_the_webhook_refused_is_not_swept_again(db):
    """Issue 10 finding 7: a 4xx is final: the sweeper does not post it forever."""
    notifier = Notifier(db, None)
    await notifier.record(NOTICE)
    hook = Hook(400)
    sweeper = Notifier(db, WEBHOOK, hook.transport, backoff_seconds=0)
    assert await sweeper.retry_pending() == 0
    assert await sweeper.retry_pending() == 0
    assert len(hook.requests) == 1
    assert await notifier.status(NOTICE) == ("rejected", 1)
