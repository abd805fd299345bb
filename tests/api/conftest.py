"""The API in-process: the app factory over a migrated SQLite file and the time-skipping Temporal
server, with the workflow's activities in memory (tests/workflows/fakes.py) except step 1's
`record_declaration`, which writes the application to the database as in production.

Requests go through httpx's ASGITransport; the app's lifespan is entered as uvicorn would.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.step1_declaration import DeclarationActivities
from adapters import ipn
from adapters.db import ApplicationRecord, Database, migrate_async
from api.app import create_app
from config import Settings
from tests.support.receipt_api import receipt_api  # noqa: F401  (the fixture of the receipt routes)
from tests.support.temporal import time_skipping_env
from tests.workflows.fakes import FakeBackend
from tests.workflows.test_renewal_workflow import DECLARATION
from workflows.renewal import HouseholdRenewal

TOKEN = "api-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("api") / "bhyt.db"
    url = f"sqlite+aiosqlite:///{path}"
    await migrate_async(url)
    return url


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@dataclass
class Api:
    """An HTTP client on the app, the in-memory backend its workflows use, and the database."""

    http: httpx.AsyncClient
    backend: FakeBackend
    db: Database
    settings: Settings

    async def declare(self, body: object = DECLARATION, key: str | None = None) -> httpx.Response:
        headers = dict(AUTH) | ({"Idempotency-Key": key} if key else {})
        return await self.http.post("/api/v1/renewals", json=body, headers=headers)

    async def order(self, application_id: str, txn_ref: str, amount: int) -> None:
        """What step 3's `open_payment` records (the fakes keep it in memory only)."""
        async with self.db.unit_of_work() as uow:
            record = await uow.repo.get_application(application_id)
            base = record or ApplicationRecord(application_id=application_id, status="awaiting_payment")
            await uow.repo.save_application(base.model_copy(update={"txn_ref": txn_ref, "amount": amount}))
            await uow.commit()

    def callback(
        self, txn_ref: str, amount: int, *, transaction_no: str | None = None, **overrides: str
    ) -> dict[str, str]:
        """A callback signed with the merchant's secret, as the bank sends it."""
        number = transaction_no or str(uuid.uuid4().int)[:8]
        params = ipn.ipn_params(
            tmn_code=self.settings.bhyt_tmn_code,
            txn_ref=txn_ref,
            amount_dong=amount,
            bank_code="NCB",
            bank_tran_no=f"VNP{number}",
            transaction_no=number,
            pay_date=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
            order_info="BHYT",
        )
        params.update(overrides)
        return ipn.signed({k: v for k, v in params.items() if v is not None}, self.settings.bhyt_ipn_secret)

    async def ipn(self, params: dict[str, str]) -> dict[str, str]:
        response = await self.http.get("/api/v1/payments/ipn", params=params)
        assert response.status_code == 200
        return response.json()


@pytest.fixture
async def api(temporal_env: WorkflowEnvironment, db: Database, database_url: str) -> AsyncIterator[Api]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        bhyt_api_token=TOKEN,
        temporal_task_queue=f"api-{uuid.uuid4()}",
    )
    backend = FakeBackend()
    declaration = DeclarationActivities(db)
    activities = [a for a in backend.activities() if a.__name__ != "record_declaration"]
    worker = Worker(
        temporal_env.client,
        task_queue=settings.temporal_task_queue,
        workflows=[HouseholdRenewal],
        activities=[*activities, declaration.record_declaration],
    )
    app = create_app(settings, temporal=temporal_env.client, db=db)
    async with (
        worker,
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield Api(http=http, backend=backend, db=db, settings=settings)
