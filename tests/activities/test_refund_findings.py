"""Issue 20, findings 1 and 2: a refund is final only when the bank says so, and a retry after a
lost answer asks the bank before it sends a new request (a real gateway refuses a repeated
vnp_RequestId)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from adapters.bank import BankGatewayClient, BankUnavailable
from domain.models import PaymentReceived
from services.refunds import refund_transaction
from tests.support.scripted_bank import SECRET, TMN, ScriptedBank

_numbers = itertools.count(31_000_001)


def a_payment() -> PaymentReceived:
    number = str(next(_numbers))
    return PaymentReceived(
        txn_ref=f"BHYTF{number}",
        amount=500_000,
        bank_code="NCB",
        bank_tran_no=f"VNP{number}",
        transaction_no=number,
        pay_date=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
        response_code="00",
        transaction_status="00",
    )


def client(bank: ScriptedBank) -> BankGatewayClient:
    return BankGatewayClient("http://bank", TMN, secret=SECRET, transport=bank.transport())


def querydr(status: str, transaction_type: str = "02") -> tuple[str, dict[str, str]]:
    return ("answer", {"vnp_ResponseCode": "00", "vnp_Message": "ok", "vnp_Amount": "50000000",
                       "vnp_TransactionType": transaction_type, "vnp_TransactionStatus": status})  # fmt: skip


async def state_of(db, payment: PaymentReceived) -> str | None:
    async with db.unit_of_work(read_only=True) as uow:
        row = await uow.repo.payment_row(payment)
    return None if row is None else row.refund_status


async def test_a_refund_the_bank_is_processing_is_not_booked_refunded(db) -> None:
    """Finding 1: refund 94 means "a refund was already requested; VNPAY is processing it"."""
    payment = a_payment()
    bank = ScriptedBank(
        {
            "refund": [("answer", {"vnp_ResponseCode": "94", "vnp_Message": "already requested"})],
            "querydr": [querydr("05"), querydr("05")],
        }
    )
    async with client(bank) as gateway:
        result = await refund_transaction(db, gateway, "app-f1", payment, "cancelled")
    assert getattr(result, "state", None) == "in_process"
    assert not getattr(result, "refunded", False)
    assert await state_of(db, payment) != "refunded"


async def test_a_refund_accepted_as_in_process_is_not_booked_refunded(db) -> None:
    """Finding 1: answer 00 with transaction status 05/06 is a request taken, not money returned."""
    payment = a_payment()
    bank = ScriptedBank(
        {
            "refund": [
                ("answer", {"vnp_ResponseCode": "00", "vnp_Message": "ok", "vnp_TransactionStatus": "06"})
            ]
        }
    )
    async with client(bank) as gateway:
        result = await refund_transaction(db, gateway, "app-f1b", payment, "cancelled")
    assert getattr(result, "state", None) == "in_process"
    assert await state_of(db, payment) != "refunded"


async def test_a_retry_after_an_unreached_request_asks_first_then_sends_a_new_request_id(db) -> None:
    """Finding 2: the retry cannot know whether the first request arrived: it asks (querydr);
    the bank has no refund on record, so a new request with a new vnp_RequestId goes out."""
    payment = a_payment()
    bank = ScriptedBank(
        {
            "refund": [
                ("lost", {"vnp_ResponseCode": "95", "vnp_Message": "refused"}),  # reached, answer lost
                ("answer", {"vnp_ResponseCode": "00", "vnp_Message": "ok", "vnp_TransactionStatus": "00"}),
            ],
            "querydr": [querydr("00", transaction_type="01")],  # the payment, no refund on record
        }
    )
    async with client(bank) as gateway:
        with pytest.raises(BankUnavailable):
            await refund_transaction(db, gateway, "app-f2", payment, "cancelled")
        result = await refund_transaction(db, gateway, "app-f2", payment, "cancelled")
    first, second = (r["vnp_RequestId"] for r in bank.requests("refund"))
    assert first != second, "a real gateway refuses a repeated vnp_RequestId"
    assert bank.requests("querydr"), "the retry asks the bank before sending anything new"
    assert getattr(result, "state", None) == "refunded"


async def test_a_retry_after_a_lost_answer_sends_nothing_new_when_the_bank_has_the_refund(db) -> None:
    """Finding 2: the first request reached the bank (its answer was lost): querydr shows the
    refund in process, and no second refund request is sent."""
    payment = a_payment()
    bank = ScriptedBank(
        {
            "refund": [
                ("lost", {"vnp_ResponseCode": "00", "vnp_Message": "ok", "vnp_TransactionStatus": "05"})
            ],
            "querydr": [querydr("05")],
        }
    )
    async with client(bank) as gateway:
        with pytest.raises(BankUnavailable):
            await refund_transaction(db, gateway, "app-f2b", payment, "cancelled")
        result = await refund_transaction(db, gateway, "app-f2b", payment, "cancelled")
    assert len(bank.requests("refund")) == 1
    assert getattr(result, "state", None) == "in_process"
