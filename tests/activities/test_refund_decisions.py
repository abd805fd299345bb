"""A refund the bank refused is due: an operator retries it (a new request) or records it paid
back by other means; either way the operator is on record, and nothing is sent twice."""

from __future__ import annotations

import pytest

from services.refunds import refund_transaction
from tests.activities.test_refund_findings import a_payment, client, state_of
from tests.support.scripted_bank import ScriptedBank


async def test_refused_then_paid_back_by_other_means(db) -> None:
    payment = a_payment()
    bank = ScriptedBank({"refund": [("answer", {"vnp_ResponseCode": "95", "vnp_Message": "refused"})]})
    async with client(bank) as gateway:
        first = await refund_transaction(db, gateway, "app-d1", payment, "cancelled")
        assert (first.state, await state_of(db, payment)) == ("rejected", "rejected:95")
        again = await refund_transaction(db, gateway, "app-d1", payment, "cancelled")
        assert again.state == "rejected" and len(bank.received) == 1  # an operator decides, not a retry
        with pytest.raises(LookupError, match="transaction"):
            async with db.unit_of_work() as uow:
                await uow.repo.decide_refund("app-d1", "no-such", "paid_back", "an.nguyen")
        async with db.unit_of_work() as uow:
            await uow.repo.decide_refund("app-d1", payment.transaction_no, "paid_back", "an.nguyen")
            await uow.commit()
        done = await refund_transaction(db, gateway, "app-d1", payment, "cancelled")
    assert done.state == "refunded" and len(bank.received) == 1
    async with db.unit_of_work(read_only=True) as uow:
        row = await uow.repo.payment_row(payment)
    assert (row.refund_status, row.refund_decided_by) == ("paid_back", "an.nguyen")


async def test_refused_then_retried_with_a_new_request_id(db) -> None:
    payment = a_payment()
    bank = ScriptedBank(
        {
            "refund": [
                ("answer", {"vnp_ResponseCode": "00", "vnp_Message": "ok", "vnp_TransactionStatus": "09"}),
                ("answer", {"vnp_ResponseCode": "00", "vnp_Message": "ok", "vnp_TransactionStatus": "05"}),
            ],
        }
    )
    async with client(bank) as gateway:
        assert (await refund_transaction(db, gateway, "app-d2", payment, "x")).state == "rejected"
        async with db.unit_of_work() as uow:
            await uow.repo.decide_refund("app-d2", payment.transaction_no, "retry", "binh.tran")
            await uow.commit()
        retried = await refund_transaction(db, gateway, "app-d2", payment, "x")
    assert retried.state == "in_process"
    first, second = (r["vnp_RequestId"] for r in bank.requests("refund"))
    assert first != second
    assert not bank.requests("querydr")
