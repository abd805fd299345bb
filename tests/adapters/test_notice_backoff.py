"""Issue 21 finding 5: a webhook 401/403 is retried with backoff and alerted (never final), each
notice backs off on its own, failing notices never hold up newer ones, and the portal reads each
notice's true state."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.db import Database, migrate_async
from adapters.notifications import Notice, Notifier
from domain.application import NoticeView

WEBHOOK = "http://notify.test/hook"


@pytest.fixture
async def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    await migrate_async(url)
    database = Database(url)
    yield database
    await database.dispose()


def notice(application_id: str, kind: str = "payment_due") -> Notice:
    return Notice(application_id, kind, "declarant", "Số tiền phải đóng: 1.000 đồng", {})


async def views(db: Database, application_id: str) -> list[NoticeView]:
    async with db.unit_of_work(read_only=True) as uow:
        return await uow.repo.notices_of(application_id)


async def states(db: Database, application_id: str) -> list[str]:
    return [n.status for n in await views(db, application_id)]


async def test_a_webhook_401_leaves_the_notice_to_be_retried_not_rejected(db) -> None:
    """Today's behaviour: a 401 marks the notice rejected forever, and the portal reads 'pending'."""
    hook = httpx.MockTransport(lambda request: httpx.Response(401))
    notifier = Notifier(db, WEBHOOK, hook, backoff_seconds=0)
    await notifier.record(notice("app-401-once"))
    await notifier.retry_pending()
    assert await notifier.status(notice("app-401-once")) == ("pending", 1)
    assert await states(db, "app-401-once") == ["retrying"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_webhook_401_is_retried_with_backoff_and_alerted_never_rejected(db, caplog) -> None:
    answers = [401, 403]

    def hook(request: httpx.Request) -> httpx.Response:
        return httpx.Response(answers.pop(0) if answers else 200)

    clock = Clock()
    notifier = Notifier(db, WEBHOOK, httpx.MockTransport(hook), retry_base_seconds=10, clock=clock)
    await notifier.record(notice("app-401"))
    with caplog.at_level(logging.WARNING):
        await notifier.retry_pending()
    assert await states(db, "app-401") == ["retrying"]  # not rejected, not "pending"
    alerts = [r for r in caplog.records if "authentication" in r.getMessage()]
    assert alerts and all("Số tiền" not in r.getMessage() for r in alerts)
    first = (await views(db, "app-401"))[0].deliveries[0]
    assert first.next_attempt_at == clock.now + timedelta(seconds=10)
    assert await notifier.retry_pending() == 0  # waits its backoff
    clock.now += timedelta(seconds=10)
    await notifier.retry_pending()  # 403: still retrying, and waiting twice as long
    second = (await views(db, "app-401"))[0].deliveries[0]
    assert second.status == "retrying" and second.next_attempt_at == clock.now + timedelta(seconds=20)
    clock.now += timedelta(seconds=20)
    assert await notifier.retry_pending() == 1
    assert await states(db, "app-401") == ["delivered"]


async def test_a_malformed_notice_refused_by_the_webhook_shows_rejected(db) -> None:
    notifier = Notifier(db, WEBHOOK, httpx.MockTransport(lambda r: httpx.Response(422)), backoff_seconds=0)
    await notifier.record(notice("app-422"))
    await notifier.retry_pending()
    assert await states(db, "app-422") == ["rejected"]  # the portal was told "pending" before


async def test_a_hundred_failing_notices_do_not_block_a_newer_one(db) -> None:
    def hook(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200 if body["application_id"] == "app-new" else 500)

    notifier = Notifier(db, WEBHOOK, httpx.MockTransport(hook), attempts=1, backoff_seconds=0)
    for i in range(100):
        await notifier.record(notice(f"app-old-{i:03d}"))
    await notifier.record(notice("app-new"))
    await notifier.retry_pending()
    await notifier.retry_pending()
    assert await states(db, "app-new") == ["delivered"]
    assert await states(db, "app-old-000") == ["retrying"]
