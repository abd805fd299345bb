"""The portal API in-process, over the real workflow and the real step 1, 2, 4 and 5 activities.

The database is a migrated SQLite file loaded with the reference data; the population registry
is its simulator reached through an ASGI transport; Temporal is the time-skipping test server.
The bank is its simulator through an ASGI transport too; only the confirmation of a payment
with the bank (`reconcile_payment`) is stood in for, since these tests pay by signalling the
verified callback directly.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.inputs import ReconcileInput
from adapters.bank import BankGatewayClient
from adapters.db import Database, migrate_async
from adapters.notifications import Notifier
from adapters.registry import RegistryClient
from api.app import create_app
from api.deps import Services
from config import Settings
from domain.application import ApplicationView
from domain.models import PaymentReceived
from simulators.bank import create_app as create_bank
from simulators.registry import create_app as create_registry
from tests.support import REFERENCE_FILE, reference_data
from worker import build_activities
from workflows import client as renewals
from workflows.renewal import HouseholdRenewal

TOKEN = "portal-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REGISTRY_KEY = "portal-test-registry"


def person(index: int, *, relationship: str = "con", months: int = 12, **overrides: Any) -> dict[str, Any]:
    """A member line for the reference participant `index` (0-based), written as on the form."""
    p = reference_data()["participants"][index]
    line = {
        "card_number": p["card_number"],
        "full_name": p["full_name"],
        "date_of_birth": p["date_of_birth"],
        "gender": p["gender"],
        "relationship": relationship,
        "months": months,
    }
    line.update(overrides)
    return line


def head(index: int = 0, **overrides: Any) -> dict[str, Any]:
    c = reference_data()["citizens"][index]
    data = {k: c[k] for k in ("full_name", "date_of_birth", "gender", "personal_id")}
    data.update(overrides)
    return data


def declaration(*members: dict[str, Any], head_: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"head": head_ or head(), "members": list(members) or [person(0, relationship="chủ hộ")]}


@dataclass
class Portal:
    http: httpx.AsyncClient
    db: Database
    env: WorkflowEnvironment
    task_queue: str
    started: set[str] = field(default_factory=set)

    async def declare(self, body: Any, **headers: str) -> httpx.Response:
        response = await self.http.post("/api/v1/renewals", json=body, headers={**AUTH, **headers})
        self.note(response)
        return response

    def note(self, response: httpx.Response) -> None:
        """Remember the runs a response started, so the harness ends them with the test."""
        if response.status_code in (201, 202):
            self.started.add(response.json()["application_id"])

    async def end_open_runs(self) -> None:
        for application_id in self.started:
            try:
                await renewals.handle(self.env.client, application_id).terminate("test over")
            except Exception:  # noqa: BLE001 - already closed
                pass

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(f"/api/v1/renewals{path}", headers=AUTH)

    async def pay(self, view: dict[str, Any], *, at: datetime) -> ApplicationView:
        """The verified bank callback, signalled as api/ipn.py does; waits for the run to end."""
        payment = PaymentReceived(
            txn_ref=view["payment"]["txn_ref"],
            amount=view["payment"]["amount"],
            bank_code="NCB",
            bank_tran_no=f"VNP{uuid.uuid4().hex[:10]}",
            transaction_no=uuid.uuid4().hex[:8],
            pay_date=at,
            response_code="00",
            transaction_status="00",
        )
        await renewals.signal_payment(self.env.client, view["application_id"], payment)
        return await renewals.handle(self.env.client, view["application_id"]).result()


@activity.defn(name="reconcile_payment")
async def reconcile_payment(request: ReconcileInput) -> str | None:
    """The tests pay by signalling the verified callback, so the bank simulator has no such
    transaction to confirm: its confirmation is the one step stood in for."""
    return None


@asynccontextmanager
async def portal(
    env: WorkflowEnvironment, tmp: Path, data: dict[str, Any] | None = None
) -> AsyncIterator[Portal]:
    url = f"sqlite:///{tmp / (uuid.uuid4().hex + '.db')}"
    await migrate_async(url)
    db = Database(url)
    data = data or reference_data()
    async with db.unit_of_work() as uow:
        await uow.repo.load_reference_data(data)
        await uow.commit()
    registry_app = create_registry(
        tmp / f"registry-{uuid.uuid4().hex}.db", api_key=REGISTRY_KEY, load=REFERENCE_FILE
    )
    registry = RegistryClient(
        "http://registry", REGISTRY_KEY, transport=httpx.ASGITransport(app=registry_app)
    )
    notifier = Notifier(db, None)
    task_queue = f"portal-{uuid.uuid4()}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        bhyt_api_token=TOKEN,
        temporal_task_queue=task_queue,
        bhyt_tmn_code="PORTAL01",
        bhyt_ipn_secret="portal-test-secret",
    )
    bank_app = create_bank(
        tmp / f"bank-{uuid.uuid4().hex}.db", secret="portal-test-secret", tmn_code="PORTAL01"
    )
    bank = BankGatewayClient(
        "http://bank", "PORTAL01", secret="portal-test-secret", transport=httpx.ASGITransport(app=bank_app)
    )
    activities = [
        reconcile_payment if getattr(a, "__temporal_activity_definition").name == "reconcile_payment" else a
        for a in build_activities(settings, db, registry, bank, notifier)
    ]
    app = create_app(settings, temporal=env.client, db=db)
    app.state.services = Services(settings=settings, temporal=env.client, db=db)
    async with (
        Worker(env.client, task_queue=task_queue, workflows=[HouseholdRenewal], activities=activities),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        running = Portal(http=http, db=db, env=env, task_queue=task_queue)
        try:
            yield running
        finally:
            await running.end_open_runs()
            await registry.aclose()
            await bank.aclose()
            await db.dispose()
