"""The application as a caller sees it: the run's own view, completed by the records.

One lookup for the API's routes and `starter.py`: the run answers first (its `status` query);
the records add what the run cannot know (a refund an operator made after the run ended, money
that came after it closed, the success notices as they were written).
"""

from __future__ import annotations

from datetime import date

from temporalio.client import Client

from adapters.db import Database
from adapters.db.payments import refund_pending, refund_returned
from domain.application import ApplicationView, NoticeView
from domain.messages import RENEWAL_SUCCESS
from domain.models import OPEN_STATUSES, ApplicationStatus, MemberOutcome
from domain.payments import PaymentOutcome, PaymentState, recorded_state
from services.errors import NoSuchApplication
from workflows import client as renewals


async def find(temporal: Client, application_id: str) -> ApplicationView:
    """The run's view of the application; `NoSuchApplication` when no run has this id."""
    view = await renewals.status(temporal, application_id)
    if view is None:
        raise NoSuchApplication(application_id)
    return view


async def current(db: Database, temporal: Client, application_id: str) -> ApplicationView:
    """The application as it stands now: every transaction with its outcome, whom it addresses,
    and each renewed member's message as their success notice said it."""
    return await with_results(db, await with_payments(db, await find(temporal, application_id)))


async def with_payments(db: Database, view: ApplicationView) -> ApplicationView:
    """Every paid transaction of the application with its outcome: the run's own view, completed
    by the records (a refund made by an operator command, money that came after the run ended)."""
    if view.payment is None:
        return view
    async with db.unit_of_work(read_only=True) as uow:
        rows = await uow.repo.payments_of(view.payment.txn_ref)
        overrides = {
            a.transaction: f"accepted by {a.operator} without the bank's confirmation: {a.reason}"
            for a in await uow.repo.operator_actions_of(view.application_id)
            if a.action == "accept" and a.override
        }
    known = {p.transaction: p for p in view.payments}
    for row in rows:
        state = recorded_state(
            allocated=row.allocated_at is not None,
            refunded=refund_returned(row.refund_status),
            application_status=view.status.value,
            refund_pending=refund_pending(row.refund_status),
        )
        mine = known.get(row.payment_key)
        deciding = (
            mine is not None
            and mine.outcome in (PaymentState.PROCESSING, PaymentState.UNDER_REVIEW)
            and (view.status in OPEN_STATUSES or view.status == ApplicationStatus.PAYMENT_REVIEW)
        )
        if deciding and state not in (PaymentState.ALLOCATED, PaymentState.REFUNDED):
            continue  # the run knows better while it is deciding
        reason = row.refund_status or row.outcome
        if row.refund_decided_by:
            reason = f"{row.refund_status} (decided by {row.refund_decided_by})"
        known[row.payment_key] = PaymentOutcome(
            transaction=row.payment_key,
            bank_code=row.bank_code,
            bank_tran_no=row.bank_tran_no,
            amount=row.amount,
            pay_date=row.pay_date,
            outcome=state,
            reason=mine.reason if mine and not row.refund_status else reason,
        )
    for transaction, why in overrides.items():  # the override is shown with the transaction, whoever decided
        if transaction in known:
            known[transaction] = known[transaction].model_copy(update={"reason": why})
    return view.model_copy(update={"payments": list(known.values())})


async def with_results(db: Database, view: ApplicationView) -> ApplicationView:
    """Whom the application addresses (its declarant), and each renewed member's message as their
    success notice says it, with the day the card works from when later than the notice (issue
    22): the records are what was declared and what was told."""
    async with db.unit_of_work(read_only=True) as uow:
        record = await uow.repo.get_application(view.application_id)
        renewed = any(m.result == "renewed" for m in view.members)
        notices = await uow.repo.notices_of(view.application_id) if renewed else []
    if record is not None and record.declaration is not None:
        view = view.model_copy(update={"addressee": record.declaration.the_declarant.full_name})
    told = {n.recipient: n for n in notices if n.kind == "renewed"}
    members = []
    for member in view.members:
        notice = told.get(member.card_number)
        if member.result == "renewed" and notice is not None:
            usable = _usable_from(notice.message, member)
            member = member.model_copy(update={"message": notice.message, "usable_from": usable})
        members.append(member)
    return view.model_copy(update={"members": members})


def _usable_from(message: str, member: MemberOutcome) -> date | None:
    return member.valid_from if message != RENEWAL_SUCCESS else None


async def notices(db: Database, temporal: Client, application_id: str) -> list[NoticeView]:
    """Every notice of the application; a run not yet recorded still answers (with no notice)."""
    async with db.unit_of_work(read_only=True) as uow:
        found = await uow.repo.notices_of(application_id)
        known = found or await uow.repo.get_application(application_id) is not None
    if not known:
        await find(temporal, application_id)
    return found
