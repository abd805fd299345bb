"""The notification outbox's uniqueness holds on both databases, also under concurrent sends."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from adapters.db.orm import NotificationRow
from adapters.notifications import Notice, Notifier


async def test_concurrent_sends_of_one_notice_record_it_once(db):
    posted: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200)

    notifier = Notifier(db, "http://notify.test/hook", httpx.MockTransport(hook), backoff_seconds=0)
    notice = Notice("app-1", "renewed", "GD4010101234567", "message", {"n": 1})
    created = await asyncio.gather(*(notifier.send(notice) for _ in range(5)))
    assert sorted(created) == [False, False, False, False, True]
    assert await notifier.send(notice) is False
    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(NotificationRow)) == 1
    # delivered is recorded once (the attempt that recorded it); at least once on the wire:
    # concurrent first sends may each post, the receiver dedupes on the key
    assert await notifier.status(notice) == ("delivered", 1) and posted
    assert {r.headers["Idempotency-Key"] for r in posted} == {notice.notice_id}


async def test_two_sweepers_send_each_due_delivery_once(db):
    """Two workers sweep the same outbox: a delivery is claimed before it is sent, so each notice
    goes out once, and newer notices are not held up by the claimed ones."""
    posted: list[str] = []

    def hook(request: httpx.Request) -> httpx.Response:
        posted.append(request.headers["Idempotency-Key"])
        return httpx.Response(200)

    first, second = (
        Notifier(db, "http://notify.test/hook", httpx.MockTransport(hook), backoff_seconds=0) for _ in range(2)
    )
    notices = [Notice(f"app-{i}", "payment_due", "declarant", "m", {}) for i in range(30)]
    for notice in notices:
        await first.record(notice)
    delivered = await asyncio.gather(first.retry_pending(limit=20), second.retry_pending(limit=20))
    delivered += await asyncio.gather(first.retry_pending(limit=20), second.retry_pending(limit=20))
    assert sum(delivered) == 30
    assert sorted(posted) == sorted(n.notice_id for n in notices)
    for notice in notices:
        assert await first.status(notice) == ("delivered", 1)
