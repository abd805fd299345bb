"""The bank's IPN callback through the app: each answer code, what is recorded, what reaches the workflow."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from adapters.db.orm import BankPaymentRow
from domain.models import ApplicationStatus
from tests.api.conftest import AUTH, Api


async def outcomes(api: Api, txn_ref: str) -> list[tuple[str, int]]:
    async with api.db.unit_of_work(read_only=True) as uow:
        rows = await uow.session.scalars(
            select(BankPaymentRow).where(BankPaymentRow.txn_ref == txn_ref).order_by(BankPaymentRow.id)
        )
        return [(row.outcome, row.duplicate_count) for row in rows]


async def an_order(api: Api, amount: int = 500_000) -> str:
    txn_ref = f"T{uuid.uuid4().hex[:12]}"
    await api.order(str(uuid.uuid4()), txn_ref, amount)
    return txn_ref


async def test_97_when_the_signature_is_wrong_and_nothing_is_recorded(api: Api) -> None:
    txn_ref = await an_order(api)
    params = api.callback(txn_ref, 500_000)
    params["vnp_Amount"] = "100"  # changed after signing
    assert await api.ipn(params) == {"RspCode": "97", "Message": "Invalid signature"}
    assert await outcomes(api, txn_ref) == []


async def test_01_for_an_unknown_order_or_another_merchant(api: Api) -> None:
    assert (await api.ipn(api.callback("T-unknown", 500_000)))["RspCode"] == "01"
    txn_ref = await an_order(api)
    assert (await api.ipn(api.callback(txn_ref, 500_000, vnp_TmnCode="OTHER")))["RspCode"] == "01"
    assert await outcomes(api, txn_ref) == []


async def test_04_when_the_amount_differs_recorded_for_review(api: Api) -> None:
    txn_ref = await an_order(api, 500_000)
    assert await api.ipn(api.callback(txn_ref, 499_999)) == {"RspCode": "04", "Message": "Invalid amount"}
    assert await outcomes(api, txn_ref) == [("amount_mismatch", 0)]


async def test_00_for_a_matching_payment_then_02_for_its_repeat(api: Api) -> None:
    txn_ref = await an_order(api)
    params = api.callback(txn_ref, 500_000)
    assert await api.ipn(params) == {"RspCode": "00", "Message": "Confirm Success"}
    assert await api.ipn(params) == {"RspCode": "02", "Message": "Order already confirmed"}
    # another transaction for the same, already paid order is not confirmed again
    assert (await api.ipn(api.callback(txn_ref, 500_000)))["RspCode"] == "02"
    assert await outcomes(api, txn_ref) == [("confirmed", 1), ("second_payment", 0)]  # refund due


async def test_00_for_a_failed_payment_which_confirms_nothing(api: Api) -> None:
    txn_ref = await an_order(api)
    failed = api.callback(txn_ref, 500_000, vnp_ResponseCode="24", vnp_TransactionStatus="02")
    assert (await api.ipn(failed))["RspCode"] == "00"
    assert (await api.ipn(api.callback(txn_ref, 500_000)))["RspCode"] == "00"
    assert await outcomes(api, txn_ref) == [("failed", 0), ("confirmed", 0)]


async def test_99_when_a_signed_callback_lacks_a_required_field(api: Api) -> None:
    txn_ref = await an_order(api)
    params = api.callback(txn_ref, 500_000, vnp_PayDate=None)  # type: ignore[arg-type]
    assert "vnp_PayDate" not in params
    assert await api.ipn(params) == {"RspCode": "99", "Message": "Unknown error"}
    assert await outcomes(api, txn_ref) == []


async def test_a_confirmed_payment_reaches_the_workflow_once_and_allocates_once(api: Api) -> None:
    created = (await api.declare()).json()
    assert created["status"] == ApplicationStatus.AWAITING_PAYMENT
    txn_ref, amount = created["payment"]["txn_ref"], created["payment"]["amount"]
    await api.order(created["application_id"], txn_ref, amount)

    params = api.callback(txn_ref, amount)
    assert (await api.ipn(params))["RspCode"] == "00"
    assert (await api.ipn(params))["RspCode"] == "02"  # the bank's retry: signalled again, ignored
    url = f"/api/v1/renewals/{created['application_id']}"
    for _ in range(100):
        view = (await api.http.get(url, headers=AUTH)).json()
        if view["status"] == ApplicationStatus.COMPLETED:
            break
        await asyncio.sleep(0.05)
    assert view["status"] == ApplicationStatus.COMPLETED
    assert view["receipt"]["total"] == amount
    assert api.backend.calls["allocate"] == 1
    # the bank's retry reaches the run if it is still open (ignored there), else it is only recorded
    assert view["ignored_callbacks"] in (0, 1), view


async def test_a_payment_for_a_closed_application_is_recorded_as_such_and_answered_02(api: Api) -> None:
    """Issue 10 finding 4: not `00 Confirm Success` for money the application no longer takes."""
    for status in ("expired", "cancelled", "rejected"):
        application_id, txn_ref = str(uuid.uuid4()), f"T{uuid.uuid4().hex[:12]}"
        await api.order(application_id, txn_ref, 500_000)
        async with api.db.unit_of_work() as uow:
            await uow.repo.set_application_status(application_id, status)
            await uow.commit()
        answer = await api.ipn(api.callback(txn_ref, 500_000))
        assert answer["RspCode"] == "02" and "closed" in answer["Message"], (status, answer)
        assert await outcomes(api, txn_ref) == [("closed_application", 0)]


async def test_a_transaction_number_reused_with_other_content_is_an_error_kept_for_audit(api: Api) -> None:
    """Issue 10 finding 4: no silent 00 for a callback the unique key would have dropped."""
    txn_ref = await an_order(api)
    first = api.callback(txn_ref, 500_000, transaction_no="14990001")
    assert (await api.ipn(first))["RspCode"] == "00"
    other = api.callback(txn_ref, 400_000, transaction_no="14990001")
    assert await api.ipn(other) == {
        "RspCode": "99",
        "Message": "Transaction already recorded with other content",
    }
    assert await outcomes(api, txn_ref) == [("confirmed", 0)]  # the first record is untouched
    async with api.db.unit_of_work(read_only=True) as uow:
        conflicts = [c for c in await uow.repo.payment_conflicts() if c.txn_ref == txn_ref]
    assert [(c.payment_key, c.raw["vnp_Amount"]) for c in conflicts] == [("14990001", "40000000")]


async def test_payments_are_keyed_on_the_transaction_number_not_the_bank_number(api: Api) -> None:
    """Issue 10 finding 4: two banks may number transfers alike; vnp_TransactionNo tells them apart."""
    txn_ref = await an_order(api)
    a = api.callback(txn_ref, 500_000, transaction_no="14990011", vnp_BankTranNo="BANK1", vnp_BankCode="NCB")
    b = api.callback(txn_ref, 500_000, transaction_no="14990012", vnp_BankTranNo="BANK1", vnp_BankCode="VCB")
    assert (await api.ipn(a))["RspCode"] == "00"
    assert (await api.ipn(b))["RspCode"] == "02"  # a second payment of a paid order: refund due
    assert await outcomes(api, txn_ref) == [("confirmed", 0), ("second_payment", 0)]
