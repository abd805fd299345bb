"""Issue 21 finding 5: a webhook 401/403 is retried with backoff and alerted (never final), each
notice backs off on its own, failing notices never hold up newer ones, and the portal reads each
notice's true state."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from adapters.db import Database, migrate_async
from adapters.notifications import Notice, Notifier

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


async def states(db: Database, application_id: str) -> list[str]:
    async with db.unit_of_work(read_only=True) as uow:
        return [n.status for n in await uow.repo.notices_of(application_id)]


async def test_a_webhook_401_is_retried_with_backoff_and_alerted_never_rejected(db, caplog) -> None:
    answers = [401, 403]

    def hook(request: httpx.Request) -> httpx.Response:
        return httpx.Response(answers.pop(0) if answers else 200)

    notifier = Notifier(db, WEBHOOK, httpx.MockTransport(hook), backoff_seconds=0)
    await notifier.record(notice("app-401"))
    with caplog.at_level(logging.WARNING):
        await notifier.retry_pending()
    assert await states(db, "app-401") == ["retrying"]  # not rejected, not "pending"
    alerts = [r for r in caplog.records if "authentication" in r.getMessage()]
    assert alerts and all("Số tiền" not in r.getMessage() for r in alerts)
    await notifier.retry_pending()  # 403: still retrying
    assert await states(db, "app-401") == ["retrying"]
    await notifier.retry_pending()
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
