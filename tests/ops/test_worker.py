"""The worker's outbox sweep: pending notices are delivered once the portal webhook answers."""

from __future__ import annotations

import asyncio
import json

import httpx

from adapters.db import Database, migrate_async
from adapters.notifications import Notice, Notifier
from worker import redeliver_notices


async def test_pending_notices_are_redelivered(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'bhyt.db'}"
    await migrate_async(url)
    db = Database(url)
    portal_up = False
    received: list[dict] = []

    def portal(request: httpx.Request) -> httpx.Response:
        if not portal_up:
            return httpx.Response(503)
        received.append(json.loads(request.content))
        return httpx.Response(200)

    notifier = Notifier(
        db,
        "http://portal.test/hook",
        transport=httpx.MockTransport(portal),
        backoff_seconds=0,
        retry_base_seconds=0,
    )
    notice = Notice("app-1", "payment_due", "declarant", "Số tiền phải đóng", {})
    try:
        try:
            await notifier.send(notice)
        except Exception:  # noqa: BLE001 - the webhook is down: the notice stays pending
            pass
        assert (await notifier.status(notice))[0] != "delivered"  # type: ignore[index]
        portal_up = True
        stop = asyncio.Event()
        sweep = asyncio.create_task(redeliver_notices(notifier, stop, every=0.05))
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await sweep
        assert [r.get("kind") for r in received] == ["payment_due"]
        assert (await notifier.status(notice))[0] == "delivered"  # type: ignore[index]
    finally:
        await db.dispose()


def test_the_workflow_bytecode_is_written_even_when_python_is_told_not_to(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The sandbox re-imports the workflow module per run: with its bytecode on disk that is a
    load, not a compile (issue 12). Fails when the worker leaves PYTHONDONTWRITEBYTECODE to decide."""
    import importlib.util
    import marshal
    import sys
    from pathlib import Path

    import worker
    from workflows import renewal

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    cached = Path(importlib.util.cache_from_source(renewal.__file__))
    cached.unlink(missing_ok=True)
    worker.write_workflow_bytecode()
    assert cached.exists()
    code = marshal.loads(cached.read_bytes()[16:])  # after the header: magic, flags, mtime, size
    assert code.co_filename == renewal.__file__
