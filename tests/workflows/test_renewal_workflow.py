"""`HouseholdRenewal` on the time-skipping test server, with in-memory activities.

Each test drives one path of the procedure through the public surface (update-with-start,
signals, the status query, search attributes) and checks what was written.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.allocation import verification_code
from domain.application import ApplicationView, RenewalInput
from domain.messages import RESIDENCE_MISMATCH, VERIFICATION_UNAVAILABLE
from domain.models import ApplicationStatus, Declaration, PaymentReceived
from domain.payments import ReviewDecision
from tests.support.temporal import time_skipping_env
from tests.workflows.fakes import FakeBackend
from workflows import client as renewals
from workflows.contract import SA_MEMBER_COUNT, SA_RENEWAL_STATUS, SA_TOTAL_AMOUNT
from workflows.renewal import HouseholdRenewal

DECLARATION = {
    "head": {
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1980-05-12",
        "gender": "male",
        "personal_id": "001080012345",
    },
    "members": [
        {
            "card_number": "GD4010123456789",
            "full_name": "Nguyễn Văn An",
            "date_of_birth": "1980-05-12",
            "gender": "male",
            "relationship": "chủ hộ",
            "months": 12,
        },
        {
            "card_number": "GD4010123456790",
            "full_name": "Trần Thị Bình",
            "date_of_birth": "1982-03-01",
            "gender": "female",
            "relationship": "vợ",
            "months": 12,
        },
        {
            "card_number": "GD4010123456791",
            "full_name": "Nguyễn Văn Cường",
            "date_of_birth": "2010-09-09",
            "gender": "male",
            "relationship": "con",
            "months": 6,
        },
    ],
}
SUBMITTED = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
DEADLINE = timedelta(hours=24)


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment


def request(declaration: dict = DECLARATION) -> RenewalInput:
    return RenewalInput(
        application_id=str(uuid.uuid4()),
        declaration=Declaration.model_validate(declaration),
        submitted_at=SUBMITTED,
        payment_deadline_seconds=int(DEADLINE.total_seconds()),
        receipt_series="BH26",
    )


def payment_for(
    view: ApplicationView, *, amount: int | None = None, transaction_no: str = "14000001"
) -> PaymentReceived:
    assert view.payment is not None
    return PaymentReceived(
        txn_ref=view.payment.txn_ref,
        amount=view.payment.amount if amount is None else amount,
        bank_code="NCB",
        bank_tran_no=f"VNP{transaction_no}",
        transaction_no=transaction_no,
        pay_date=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        response_code="00",
        transaction_status="00",
    )


class Run:
    """A workflow run with its worker kept alive for the duration of a test."""

    def __init__(self, env: WorkflowEnvironment, backend: FakeBackend) -> None:
        self.env, self.backend = env, backend
        self.worker = Worker(
            env.client,
            task_queue=f"tq-{uuid.uuid4()}",
            workflows=[HouseholdRenewal],
            activities=backend.activities(),
        )

    async def __aenter__(self) -> Run:
        await self.worker.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.worker.__aexit__(*exc)

    async def submit(self, req: RenewalInput) -> ApplicationView:
        return await renewals.submit(self.env.client, req, task_queue=self.worker.task_queue)

    async def result(self, req: RenewalInput) -> ApplicationView:
        return await renewals.handle(self.env.client, req.application_id).result()


async def search_attributes(client: Client, req: RenewalInput):  # type: ignore[no-untyped-def]
    return (await renewals.handle(client, req.application_id).describe()).typed_search_attributes


async def test_full_renewal_allocates_once_and_completes(env: WorkflowEnvironment) -> None:
    backend = FakeBackend(paid_positions_before=1)
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        assert view.status == ApplicationStatus.AWAITING_PAYMENT
        assert view.quote is not None and view.payment is not None
        # positions continue after the member who already paid this year: 2nd, 3rd, 4th
        assert [line.position for line in view.quote.lines] == [2, 3, 4]
        # base 2,530,000 from 2026-07-01: 79,695 ×12 + 68,310 ×12 + 56,925 ×6
        assert view.quote.total == 79_695 * 12 + 68_310 * 12 + 56_925 * 6
        assert view.payment.amount == view.quote.total

        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        final = await run.result(req)

    assert final.status == ApplicationStatus.COMPLETED
    assert final.receipt is not None and final.receipt.total == view.quote.total
    # the fake allocates with the production rules: the receipt is the one the database would issue
    receipt = final.receipt
    assert receipt.verification_code == verification_code(
        req.application_id, receipt.series, receipt.year, receipt.number
    )
    assert [line.amount for line in receipt.lines] == [line.amount for line in view.quote.lines]
    assert [m.result for m in final.members] == ["renewed"] * 3
    assert final.members[0].valid_from is not None and final.members[0].valid_from.isoformat() == "2027-01-01"
    assert backend.calls["allocate"] == 1
    # step 5 and the close are one activity (issue 12, LEAN)
    assert backend.calls["complete_application"] == 1 and backend.calls["close_application"] == 0
    assert backend.statuses == ["completed"]
    assert backend.statuses[-1] == "completed"
    assert [n.kind for n in backend.notices] == ["payment_due"]
    attrs = await search_attributes(env.client, req)
    assert attrs.get(SA_RENEWAL_STATUS) == "completed"
    assert attrs.get(SA_TOTAL_AMOUNT) == view.quote.total
    assert attrs.get(SA_MEMBER_COUNT) == 3


async def test_duplicate_and_failed_callbacks_change_nothing(env: WorkflowEnvironment) -> None:
    backend = FakeBackend()
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        failed = payment_for(view, transaction_no="13999999").model_copy(
            update={"response_code": "24", "transaction_status": "02"}
        )
        await renewals.signal_payment(env.client, req.application_id, failed)
        paid = payment_for(view)
        for _ in range(3):
            await renewals.signal_payment(env.client, req.application_id, paid)
        final = await run.result(req)
    assert final.status == ApplicationStatus.COMPLETED
    assert backend.calls["allocate"] == 1
    assert backend.calls["reconcile_payment"] == 1
    assert final.ignored_callbacks == 3  # the failed one and two duplicates


async def test_deadline_passes_and_application_expires(env: WorkflowEnvironment) -> None:
    backend = FakeBackend()
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        assert view.status == ApplicationStatus.AWAITING_PAYMENT
        await env.sleep(DEADLINE + timedelta(minutes=1))  # the test server skips the 24 hours
        final = await run.result(req)
    assert final.status == ApplicationStatus.EXPIRED
    assert backend.calls["allocate"] == 0
    assert backend.statuses == ["expired"]
    assert [n.kind for n in backend.notices] == ["payment_due", "expired"]
    assert (await search_attributes(env.client, req)).get(SA_RENEWAL_STATUS) == "expired"


async def test_cancel_while_awaiting_payment(env: WorkflowEnvironment) -> None:
    backend = FakeBackend()
    req = request()
    async with Run(env, backend) as run:
        await run.submit(req)
        await renewals.signal_cancel(env.client, req.application_id)
        final = await run.result(req)
    assert final.status == ApplicationStatus.CANCELLED
    assert backend.calls["allocate"] == 0
    assert backend.statuses == ["cancelled"]


async def test_amount_mismatch_goes_to_review_and_allocates_nothing(env: WorkflowEnvironment) -> None:
    backend = FakeBackend()
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, amount=1_000))
        await env.sleep(timedelta(hours=48))  # no deadline applies once money has arrived
        now = await renewals.status(env.client, req.application_id)
        assert now is not None
        assert now.status == ApplicationStatus.PAYMENT_REVIEW
        assert now.review_reason is not None and now.review_reason.startswith("amount_mismatch")
        assert backend.calls["allocate"] == 0
        assert backend.calls["reconcile_payment"] == 0
        assert backend.statuses == ["payment_review"]
        # the bank then delivers the matching transfer: the application completes
        await renewals.signal_payment(
            env.client, req.application_id, payment_for(view, transaction_no="14000002")
        )
        final = await run.result(req)
    assert final.status == ApplicationStatus.COMPLETED
    assert backend.calls["allocate"] == 1


async def test_bank_record_disagreeing_goes_to_review(env: WorkflowEnvironment) -> None:
    backend = FakeBackend(reconcile_reason="bank_order_not_paid: pending")
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await env.sleep(timedelta(minutes=5))
        now = await renewals.status(env.client, req.application_id)
        assert now is not None and now.status == ApplicationStatus.PAYMENT_REVIEW
        assert backend.calls["allocate"] == 0
        await renewals.resolve_review(
            env.client, req.application_id, ReviewDecision(action="refund_and_cancel")
        )
        final = await run.result(req)
    assert final.status == ApplicationStatus.CANCELLED
    assert backend.refunds == ["14000001"]
    assert [p.outcome for p in final.payments] == ["refunded"]


async def test_residence_mismatch_rejects_with_the_exact_message(env: WorkflowEnvironment) -> None:
    backend = FakeBackend(household_code=None)
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        assert view.status == ApplicationStatus.REJECTED
        assert view.rejection_message == RESIDENCE_MISMATCH
        assert view.quote is None
        final = await run.result(req)
    assert final.status == ApplicationStatus.REJECTED
    # 2b runs together with 2a (issue 12); whatever it reserved, the rejection's close frees it
    assert backend.calls["close_application"] == 1
    assert backend.statuses == ["rejected"]
    assert backend.notices[-1].message == RESIDENCE_MISMATCH


async def test_ineligible_member_gets_a_reason_and_the_others_go_on(env: WorkflowEnvironment) -> None:
    backend = FakeBackend(ineligible_cards={"GD4010123456790"})
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        await renewals.signal_cancel(env.client, req.application_id)
        await run.result(req)
    assert view.status == ApplicationStatus.AWAITING_PAYMENT
    assert view.quote is not None
    assert [line.card_number for line in view.quote.lines] == ["GD4010123456789", "GD4010123456791"]
    assert [line.position for line in view.quote.lines] == [1, 2]
    by_card = {m.card_number: m for m in view.members}
    assert by_card["GD4010123456790"].result == "ineligible"
    assert by_card["GD4010123456790"].reason == "not_household_group"


async def test_no_eligible_member_rejects(env: WorkflowEnvironment) -> None:
    backend = FakeBackend(ineligible_cards={m["card_number"] for m in DECLARATION["members"]})
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        await run.result(req)
    assert view.status == ApplicationStatus.REJECTED
    assert backend.calls["compute_quote"] == 0


async def test_same_application_id_twice_starts_one_run(env: WorkflowEnvironment) -> None:
    backend = FakeBackend()
    req = request()
    async with Run(env, backend) as run:
        first = await run.submit(req)
        second = await run.submit(req)
        assert second.payment == first.payment
        assert backend.calls["record_declaration"] == 1
        assert backend.calls["open_payment"] == 1
        await renewals.signal_cancel(env.client, req.application_id)
        await run.result(req)
        # after the run closed, a retry returns its final state instead of starting again
        again = await run.submit(req)
    assert again.status == ApplicationStatus.CANCELLED
    assert backend.calls["record_declaration"] == 1
    desc = await renewals.handle(env.client, req.application_id).describe()
    assert desc.status == WorkflowExecutionStatus.COMPLETED


async def test_history_holds_no_personal_data_in_clear(env: WorkflowEnvironment) -> None:
    """What Temporal stores (and its UI shows) is encrypted; search attributes stay readable."""
    backend = FakeBackend()
    req = request()
    async with Run(env, backend) as run:
        await run.submit(req)
        await renewals.signal_cancel(env.client, req.application_id)
        await run.result(req)
    history = await renewals.handle(env.client, req.application_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    # local activities' markers (steps 1–3 since issue 12): "result" is ours (encrypted), "data"
    # the SDK's own JSON (activity type, attempt, time)
    recorded = [
        e.marker_recorded_event_attributes.details
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    ]
    markers = [p for d in recorded for p in d["result"].payloads]
    marker_data = [p for d in recorded for p in d["data"].payloads]
    payloads = list(started.input.payloads) + [p for a in scheduled for p in a.input.payloads] + markers
    assert len(payloads) > 5 and markers
    for payload in payloads:
        assert payload.metadata["encoding"] == b"binary/encrypted"
    for payload in payloads + marker_data:
        for secret in (b"001080012345", b"1980-05-12", "Nguyễn".encode()):
            assert secret not in payload.data
    attrs = await search_attributes(env.client, req)
    assert attrs.get(SA_RENEWAL_STATUS) == "cancelled"


async def test_outside_system_down_past_retries_rejects_and_frees_the_cards(env: WorkflowEnvironment) -> None:
    backend = FakeBackend(registry_refuses=True)
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        final = await run.result(req)
    assert view.status == final.status == ApplicationStatus.REJECTED
    assert final.rejection_message == VERIFICATION_UNAVAILABLE
    assert backend.statuses == ["rejected"]  # closing releases the cards


async def test_undeliverable_notices_do_not_stop_the_renewal(env: WorkflowEnvironment) -> None:
    """A notice the outbox cannot take (here the expiry notice) is logged; the run still closes.
    The payment-due notice is written by the order step, the renewed ones by step 5's close."""
    backend = FakeBackend(notices_fail=True)
    req = request()
    async with Run(env, backend) as run:
        view = await run.submit(req)
        assert view.status == ApplicationStatus.AWAITING_PAYMENT
        await env.sleep(DEADLINE + timedelta(minutes=1))
        final = await run.result(req)
    assert final.status == ApplicationStatus.EXPIRED
    assert backend.statuses == ["expired"]
    assert [n.kind for n in backend.notices] == ["payment_due", "expired"]
    desc = await renewals.handle(env.client, req.application_id).describe()
    assert desc.status == WorkflowExecutionStatus.COMPLETED
