"""The use cases run directly: a migrated SQLite database, and a fake Temporal client whose runs
answer the `status` query, the cancel signal and the review update from memory (fakes over
mocks: the use cases call the real `workflows.client` functions, which ask this client)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from adapters.db import ApplicationRecord, Database, migrate_async
from domain.application import ApplicationView
from domain.models import ApplicationStatus, PaymentInstructions, PaymentReceived
from domain.payments import ReviewDecision
from workflows.contract import QUERY_STATUS, SIGNAL_CANCEL, UPDATE_RESOLVE_REVIEW

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
_numbers = itertools.count(41_000_001)


@pytest.fixture(scope="module")
async def db(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    path: Path = tmp_path_factory.mktemp("services") / "bhyt.db"
    url = f"sqlite+aiosqlite:///{path}"
    await migrate_async(url)
    database = Database(url)
    yield database
    await database.dispose()


@dataclass
class Description:
    status: WorkflowExecutionStatus


@dataclass
class FakeRun:
    view: ApplicationView
    running: bool = True
    signals: list[str] = field(default_factory=list)
    updates: list[Any] = field(default_factory=list)
    on_cancel: Callable[[ApplicationView], ApplicationView] | None = None
    on_review: Callable[[ApplicationView, ReviewDecision], ApplicationView] | None = None


class FakeHandle:
    def __init__(self, runs: dict[str, FakeRun], workflow_id: str) -> None:
        self._runs = runs
        self._id = workflow_id

    def _run(self) -> FakeRun:
        run = self._runs.get(self._id)
        if run is None:
            raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")
        return run

    async def query(self, name: str, result_type: Any = None) -> ApplicationView:
        assert name == QUERY_STATUS
        return self._run().view

    async def signal(self, name: str, *args: Any) -> None:
        run = self._run()
        if not run.running:
            raise RPCError("workflow execution already completed", RPCStatusCode.NOT_FOUND, b"")
        run.signals.append(name)
        if name == SIGNAL_CANCEL and run.on_cancel is not None:
            run.view = run.on_cancel(run.view)

    async def execute_update(self, name: str, arg: Any, result_type: Any = None) -> ApplicationView:
        assert name == UPDATE_RESOLVE_REVIEW
        run = self._run()
        run.updates.append(arg)
        if run.on_review is None:
            raise WorkflowUpdateFailedError(ApplicationError("decision: not in review"))
        run.view = run.on_review(run.view, arg)
        return run.view

    async def describe(self) -> Description:
        run = self._run()
        return Description(WorkflowExecutionStatus.RUNNING if run.running else WorkflowExecutionStatus.COMPLETED)


class FakeTemporal:
    """What `workflows.client` asks of a Temporal client, for runs kept in memory."""

    def __init__(self) -> None:
        self.runs: dict[str, FakeRun] = {}

    def get_workflow_handle(self, workflow_id: str, result_type: Any = None) -> FakeHandle:
        return FakeHandle(self.runs, workflow_id)

    def add(self, view: ApplicationView, **kwargs: Any) -> FakeRun:
        from workflows.contract import workflow_id

        run = FakeRun(view, **kwargs)
        self.runs[workflow_id(view.application_id)] = run
        return run


@pytest.fixture
def temporal() -> FakeTemporal:
    return FakeTemporal()


def a_view(status: ApplicationStatus, *, paid: bool = False, ordered: bool = True) -> ApplicationView:
    """An application as its run shows it; with an order (txn_ref) unless `ordered=False`."""
    application_id = str(uuid.uuid4())
    payment = PaymentInstructions(
        txn_ref="BHYT" + application_id.replace("-", "").upper(),
        amount=500_000,
        pay_url="http://bank/pay",
        deadline=NOW + timedelta(hours=1),
        merchant_code="BHXHTEST",
    )
    return ApplicationView(
        application_id=application_id,
        status=status,
        submitted_at=NOW,
        updated_at=NOW,
        payment=payment if ordered else None,
        paid_at=NOW if paid else None,
    )


def a_payment(view: ApplicationView) -> PaymentReceived:
    assert view.payment is not None
    number = str(next(_numbers))
    return PaymentReceived(
        txn_ref=view.payment.txn_ref,
        amount=view.payment.amount,
        bank_code="NCB",
        bank_tran_no=f"VNP{number}",
        transaction_no=number,
        pay_date=NOW,
        response_code="00",
        transaction_status="00",
    )


async def recorded(db: Database, view: ApplicationView) -> None:
    """The application on record, with its order (what steps 1 and 3 write)."""
    assert view.payment is not None
    async with db.unit_of_work() as uow:
        await uow.repo.save_application(
            ApplicationRecord(
                application_id=view.application_id,
                status=view.status.value,
                txn_ref=view.payment.txn_ref,
                amount=view.payment.amount,
            )
        )
        await uow.commit()


async def refund_due(db: Database, view: ApplicationView) -> PaymentReceived:
    """A payment of the application whose refund the bank refused (an operator decides)."""
    payment = a_payment(view)
    async with db.unit_of_work() as uow:
        await uow.repo.lock_for_refund(payment, view.application_id)
        await uow.commit()
    async with db.unit_of_work() as uow:
        await uow.repo.record_refund_step(payment, "rejected:95", refund_transaction_no=None, next_check_at=None)
        await uow.commit()
    return payment
