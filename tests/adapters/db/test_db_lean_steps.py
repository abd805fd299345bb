"""Issue 12 (LEAN): the order step that reads the declarant's cancel and writes the payment-due
notice, and step 5 that writes the participants' notices and closes in one transaction — the
real activities on the real database (SQLite and PostgreSQL), the bank behind a mock transport.

Each would fail on the code before it: the order step opened an order whatever was on record,
and wrote no notice; there was no single step-5 activity."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.errors import CANCEL_REQUESTED
from activities.inputs import OpenPayment, ResultNotices
from activities.step3_payment import PaymentActivities, txn_ref_for
from activities.step5_result import ResultActivities
from adapters.bank import BankGatewayClient
from adapters.db import ApplicationRecord
from adapters.notifications import Notifier
from domain.models import Allocation, Quote
from tests.adapters.db.db_builders import line, participant

APP = "7d8a3c52-1111-4a8e-9d1c-000000000001"
OPENED = datetime(2026, 11, 26, 16, 0, 5, tzinfo=UTC)


class Bank:
    """The bank's order API in memory: counts the orders asked for."""

    def __init__(self) -> None:
        self.orders: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.orders.append(body["txn_ref"])
        return httpx.Response(
            201,
            json={
                "txn_ref": body["txn_ref"],
                "amount": body["amount"],
                "pay_url": f"http://bank.test/pay/{body['txn_ref']}",
                "status": "pending",
                "created_at": OPENED.isoformat(),  # the bank's, the same on a repeated call
            },
        )


@pytest.fixture
async def bank():
    fake = Bank()
    client = BankGatewayClient("http://bank.test", "BHYT0001", transport=httpx.MockTransport(fake.handler))
    yield fake, client
    await client.aclose()


def quote() -> Quote:
    lines = [line(participant(1)), line(participant(2), position=2, monthly=73_710)]
    total = sum(x.amount for x in lines)
    return Quote(
        quote_date=date(2026, 11, 26), base_salary=2_340_000, lines=lines, total=total,
        total_in_words="...", paid_positions_before=0,
    )  # fmt: skip


def order() -> OpenPayment:
    return OpenPayment(
        application_id=APP,
        household_code="HN-BD-0001",
        quote=quote(),
        deadline=datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
    )


async def recorded(db) -> None:
    async with db.unit_of_work() as uow:
        await uow.repo.save_application(
            ApplicationRecord(application_id=APP, status="verifying", member_count=2)
        )
        await uow.commit()


async def test_a_cancel_request_is_recorded_once(db):
    async with db.unit_of_work() as uow:
        assert await uow.repo.cancel_requested(APP) is False
        await uow.repo.request_cancel(APP)
        await uow.repo.request_cancel(APP)  # the portal's retry
        await uow.commit()
    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.repo.cancel_requested(APP) is True
        assert await uow.repo.cancel_requested("another") is False


async def test_the_order_step_opens_nothing_for_a_cancel_on_record(db, bank):
    fake, client = bank
    await recorded(db)
    async with db.unit_of_work() as uow:
        await uow.repo.request_cancel(APP)
        await uow.commit()
    step = PaymentActivities(db, client, merchant_code="BHYT0001", ipn_url="http://api/ipn")
    with pytest.raises(ApplicationError) as refused:
        await step.open_payment(order())
    assert refused.value.type == CANCEL_REQUESTED and refused.value.non_retryable
    assert fake.orders == []
    async with db.unit_of_work(read_only=True) as uow:
        record = await uow.repo.get_application(APP)
        assert record is not None and record.status == "verifying" and record.txn_ref is None
        assert await uow.repo.notices_of(APP) == []


async def test_an_attempt_after_the_quote_was_stored_keeps_the_same_order(db, bank):
    """An earlier attempt stored the quote, so it may have reached the bank: the retry carries on
    with the same order (the run voids it when it hears the cancel), never a second order."""
    fake, client = bank
    await recorded(db)
    step = PaymentActivities(db, client, merchant_code="BHYT0001", ipn_url="http://api/ipn")
    first = await step.open_payment(order())
    async with db.unit_of_work() as uow:
        await uow.repo.request_cancel(APP)
        await uow.commit()
    again = await step.open_payment(order())
    assert again == first and fake.orders == [txn_ref_for(APP)] * 2
    assert first.opened_at == OPENED  # issue 19: the bank's creation date, what querydr asks with
    async with db.unit_of_work(read_only=True) as uow:
        notices = await uow.repo.notices_of(APP)
    assert [n.kind for n in notices] == ["payment_due"]  # once, whatever the retries
    assert first.txn_ref in notices[0].message and "Hạn nộp" in notices[0].message


async def test_step5_notices_and_close_in_one_transaction_once(db):
    await recorded(db)
    async with db.unit_of_work() as uow:
        assert await uow.repo.reserve_cards(APP, ["0100000001", "0100000002"]) == []
        assert await uow.repo.claim_household("HN-BD-0001", APP) is None
        await uow.commit()
    allocations = [
        Allocation(
            card_number=p["card_number"], bhxh_number=p["bhxh_number"], office_code=p["office_code"],
            amount=1_263_600, old_valid_to=date(2026, 11, 30), valid_from=date(2026, 12, 1),
            valid_to=date(2027, 11, 30),
        )
        for p in (participant(1), participant(2))
    ]  # fmt: skip
    step = ResultActivities(Notifier(db, None))
    request = ResultNotices(application_id=APP, receipt_label="BH26-0000001", allocations=allocations)
    assert await step.complete_application(request) == 2
    assert await step.complete_application(request) == 0  # a retry writes nothing twice
    async with db.unit_of_work(read_only=True) as uow:
        record = await uow.repo.get_application(APP)
        notices = await uow.repo.notices_of(APP)
        assert record is not None and record.status == "completed"
        assert await uow.repo.reserved_by("0100000001") is None
        assert await uow.repo.claim_household("HN-BD-0001", "another") is None  # freed
    assert sorted(n.recipient for n in notices) == sorted(a.card_number for a in allocations)
    assert {n.kind for n in notices} == {"renewed"}
