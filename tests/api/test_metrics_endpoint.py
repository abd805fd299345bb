"""`/metrics` (issue 21): an operator's token only, and a scrape that costs nothing downstream.

It was served to anyone on the API's port, and each scrape ran about 13 visibility counts plus the
database aggregates: a scraper (or anyone) hammering it hammered Temporal and the database."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from adapters.db import Database, migrate_async
from api.app import create_app
from config import Settings


@dataclass
class Counted:
    count: int


class CountingTemporal:
    """Stands in for the Temporal client: counts the visibility queries the gauges make."""

    def __init__(self) -> None:
        self.queries = 0

    async def count_workflows(self, query: str) -> Counted:
        self.queries += 1
        return Counted(7 if "awaiting_payment" in query else 0)


async def test_metrics_need_an_operator_token_and_scrapes_do_not_query(tmp_path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bhyt.db'}",
        bank_url="http://127.0.0.1:9",  # reconciliation's bank: nobody there, counted as an error
        bhyt_metrics_refresh_seconds=3600,
    )
    await migrate_async(settings.database_url)
    db = Database(settings.database_url)
    temporal = CountingTemporal()
    app = create_app(settings, temporal=temporal, db=db)  # type: ignore[arg-type]
    operator = {"Authorization": "Bearer dev-operator-token"}
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
                anonymous = await client.get("/metrics")
                portal = await client.get("/metrics", headers={"Authorization": "Bearer dev-portal-token"})
                scrapes = [await client.get("/metrics", headers=operator)]
                first_refresh = temporal.queries
                scrapes += [await client.get("/metrics", headers=operator) for _ in range(4)]
    finally:
        await db.dispose()
    assert anonymous.status_code == 401 and "bhyt_" not in anonymous.text
    assert portal.status_code == 403
    assert all(s.status_code == 200 for s in scrapes)
    assert 'bhyt_applications{status="awaiting_payment"} 7.0' in scrapes[-1].text
    assert 0 < first_refresh <= 20, "one refresh's worth of visibility counts"
    assert temporal.queries == first_refresh, "later scrapes read the gauges, they query nothing"
