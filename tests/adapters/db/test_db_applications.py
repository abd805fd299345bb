"""Applications and bank callbacks: upserts by their natural keys, harmless when repeated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from adapters.db import ApplicationRecord
from adapters.db.orm import BankPaymentRow
from tests.adapters.db.db_builders import payment


async def test_save_and_read_an_application(db):
    deadline = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    record = ApplicationRecord(
        application_id="app-1",
        status="awaiting_payment",
        household_code="HN-BD-0001",
        province_code="01",
        member_count=2,
        txn_ref="BH0001",
        amount=2_148_120,
        deadline=deadline,
    )
    async with db.unit_of_work() as uow:
        await uow.repo.save_application(record)
        await uow.commit()
    async with db.unit_of_work() as uow:
        saved = await uow.repo.get_application("app-1")
        assert saved is not None and saved.deadline == deadline and saved.txn_ref == "BH0001"
        assert (await uow.repo.get_application_by_txn_ref("BH0001")).application_id == "app-1"
        assert await uow.repo.get_application("nope") is None
        assert await uow.repo.set_application_status("app-1", "cancelled") is True
        assert await uow.repo.set_application_status("nope", "cancelled") is False
        await uow.commit()
    async with db.unit_of_work() as uow:
        await uow.repo.save_application(record.model_copy(update={"status": "expired", "amount": 1}))
        await uow.commit()
    async with db.unit_of_work(read_only=True) as uow:
        again = await uow.repo.get_application("app-1")
    assert again.status == "expired" and again.amount == 1
    assert again.created_at == saved.created_at
    assert again.created_at.tzinfo is not None


async def test_bank_callbacks_are_recorded_once_and_confirm_the_order(db):
    async with db.unit_of_work() as uow:
        await uow.repo.save_application(
            ApplicationRecord(application_id="app-2", status="awaiting_payment", txn_ref="BH0002")
        )
        await uow.commit()
    failed = payment("BH0002", 100, "BANKFAIL1", paid=False)
    paid = payment("BH0002", 100, "BANKOK1")
    raw = {"vnp_TxnRef": "BH0002", "vnp_Amount": "10000", "vnp_ResponseCode": "00"}
    async with db.unit_of_work() as uow:
        assert await uow.repo.payment_confirmed("BH0002") is False
        assert await uow.repo.record_bank_callback("BH0002", failed, raw, "failed") is True
        assert await uow.repo.payment_confirmed("BH0002") is False
        assert await uow.repo.record_bank_callback("BH0002", paid, raw, "confirmed") is True
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.repo.record_bank_callback("BH0002", paid, raw, "confirmed") is False
        assert await uow.repo.payment_confirmed("BH0002") is True
        await uow.commit()
        rows = (await uow.session.scalars(select(BankPaymentRow).order_by(BankPaymentRow.id))).all()
    assert [(r.bank_tran_no, r.duplicate_count, r.application_id) for r in rows] == [
        ("BANKFAIL1", 0, "app-2"),
        ("BANKOK1", 1, "app-2"),
    ]
    assert rows[1].raw == raw
    assert rows[1].pay_date == paid.pay_date
    assert rows[1].last_seen_at - rows[1].received_at < timedelta(minutes=1)


async def test_paid_callbacks_of_a_day_carry_the_application_status(db):
    async with db.unit_of_work() as uow:
        await uow.repo.save_application(
            ApplicationRecord(application_id="app-r1", status="expired", txn_ref="BHR1")
        )
        await uow.repo.record_bank_callback("BHR1", payment("BHR1", 500, "BANKR1"), {}, "confirmed")
        await uow.repo.record_bank_callback("BHR1", payment("BHR1", 500, "BANKR0", paid=False), {}, "failed")
        await uow.repo.record_bank_callback(
            "BHR9", payment("BHR9", 700, "BANKR9"), {}, "confirmed"
        )  # no order
        await uow.commit()
    day = datetime(2026, 3, 2, tzinfo=UTC)  # payment() pays at 03:15 UTC that day
    async with db.unit_of_work(read_only=True) as uow:
        found = {
            p.bank_tran_no: p for p in await uow.repo.paid_callbacks_between(day, day + timedelta(days=1))
        }
        before = await uow.repo.paid_callbacks_between(day - timedelta(days=1), day)
    assert {"BANKR1", "BANKR9"} <= set(found) and "BANKR0" not in found  # failed payments are not money
    assert (found["BANKR1"].application_status, found["BANKR1"].allocated, found["BANKR1"].amount) == (
        "expired",
        False,
        500,
    )
    assert found["BANKR9"].application_status is None
    assert not {"BANKR1", "BANKR9"} & {p.bank_tran_no for p in before}
