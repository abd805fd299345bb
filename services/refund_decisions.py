"""An operator's refund decisions: on a refund due (`POST …/refunds/{transaction}`, `starter.py
refund ID --retry|--paid-back T`), and the refund of a closed application (`starter.py refund ID`).

A refund the bank rejected or refused waits for an operator (refund due): `retry` lets a new
request go out, `paid_back` records the money returned by other means. Money that came after
a run ended is not the run's to refund: an operator sends it back through the one refund path
(`services.refunds.refund_transaction`). Every decision goes to the operators' audit.
"""

from __future__ import annotations

from typing import Literal

from temporalio.client import Client, WorkflowExecutionStatus

from adapters.bank import BankGatewayClient
from adapters.db import Database
from adapters.db.payments import payment_of
from domain.application import ApplicationView
from domain.refunds import FINAL, RefundState, stored_state
from services.applications import find, with_payments
from services.audit import record_operator_action
from services.errors import NotFound, Refused, UseCaseError
from services.refunds import refund_transaction
from workflows import client as renewals

Decision = Literal["retry", "paid_back"]


async def decide_refund(
    db: Database,
    temporal: Client,
    application_id: str,
    transaction: str,
    decision: Decision,
    operator: str,
    reason: str | None = None,
) -> ApplicationView:
    """The application with its payments once the decision is on record. Raises
    `NoSuchApplication`, `NotFound` (no such transaction), or `Refused` (its refund is not
    rejected), naming the field."""
    view = await find(temporal, application_id)
    await _decide(db, application_id, transaction, decision, operator, reason)
    return await with_payments(db, view)


async def _decide(
    db: Database,
    application_id: str,
    transaction: str,
    decision: Decision,
    operator: str,
    reason: str | None,
) -> None:
    """The decision and its audit line, in one transaction."""
    async with db.unit_of_work() as uow:
        try:
            await uow.repo.decide_refund(application_id, transaction, decision, operator)
        except LookupError as exc:
            raise NotFound(str(exc)) from None
        except ValueError as exc:
            raise Refused(str(exc)) from None
        await uow.repo.record_operator_action(
            operator=operator,
            application_id=application_id,
            action=f"refund_{decision}",
            transaction=transaction,
            reason=reason,
        )
        await uow.commit()


async def refund_closed(
    db: Database,
    temporal: Client,
    bank: BankGatewayClient,
    application_id: str,
    operator: str,
    decide: tuple[Decision, str] | None = None,
) -> list[tuple[str, str]]:
    """Refund what the records hold for a closed application whose run has ended: each paid
    transaction not allocated and not refunded; `(transaction, what the bank said)` for each.
    A run still open refunds by itself: `Refused`.

    `decide` is an operator's decision on a rejected refund (refund due) first: `("retry", T)`
    sends a new request now, `("paid_back", T)` records the money returned by other means."""
    view = await find(temporal, application_id)
    desc = await renewals.handle(temporal, application_id).describe()
    if desc.status == WorkflowExecutionStatus.RUNNING or view.payment is None:
        raise Refused(f"application {application_id} is {view.status.value}: its run decides (see review)")
    if decide is not None:
        action, transaction = decide
        try:
            await _decide(db, application_id, transaction, action, operator, None)
        except UseCaseError as exc:
            raise Refused(f"refund decision refused: {exc}") from None
        if action == "paid_back":
            return [(transaction, f"recorded as paid back by other means (by {operator})")]
    else:
        await record_operator_action(db, operator=operator, application_id=application_id, action="refund")
    async with db.unit_of_work(read_only=True) as uow:
        rows = await uow.repo.payments_of(view.payment.txn_ref)
    owed = [
        payment_of(r)
        for r in rows
        if r.allocated_at is None and stored_state(r.refund_status) not in (*FINAL, RefundState.REJECTED)
    ]
    done = []
    for payment in owed:
        result = await refund_transaction(db, bank, application_id, payment, "operator")
        done.append((payment.transaction_no, f"{result.state}: {result.detail}"))
    return done
