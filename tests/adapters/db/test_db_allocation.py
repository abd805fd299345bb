"""Step 4 in one transaction: exact under retries and concurrency, on both databases."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select

from adapters.db import (
    AllocationRequest,
    ApplicationRecord,
    PaymentAlreadyAllocatedError,
    PaymentMismatchError,
)
from adapters.db.allocate import allocate
from adapters.db.orm import (
    AllocationRow,
    BankPaymentRow,
    HouseholdContributionRow,
    ParticipantRow,
    ReceiptLineRow,
    ReceiptRow,
    RevenueEntryRow,
    ValidityHistoryRow,
)
from domain.allocation import verification_code
from domain.words import amount_in_words
from tests.adapters.db.db_builders import OFFICE_A, OFFICE_B, line, participant, payment

PAY_DATE = date(2026, 3, 2)
SERIES = "BH26"
WRITTEN = [
    AllocationRow,
    BankPaymentRow,
    HouseholdContributionRow,
    ReceiptLineRow,
    ReceiptRow,
    RevenueEntryRow,
    ValidityHistoryRow,
]


async def _prepare(db, application_id: str, members: list[dict], lines, *, household="HN-BD-0001"):
    txn_ref = f"T{application_id}"
    async with db.unit_of_work() as uow:
        await uow.repo.load_reference_data({"participants": members})
        await uow.repo.save_application(
            ApplicationRecord(
                application_id=application_id,
                status="allocating",
                household_code=household,
                member_count=len(lines),
                txn_ref=txn_ref,
                amount=sum(x.amount for x in lines),
            )
        )
        assert await uow.repo.reserve_cards(application_id, [m["bhxh_number"] for m in members]) == []
        await uow.commit()
    return AllocationRequest(
        application_id=application_id,
        household_code=household,
        payer_name="Nguyễn Văn An",
        series=SERIES,
        payment=payment(txn_ref, sum(x.amount for x in lines)),
        payment_date=PAY_DATE,
        lines=lines,
    )


async def _counts(db) -> dict[str, int]:
    async with db.unit_of_work(read_only=True) as uow:
        return {
            model.__tablename__: await uow.session.scalar(select(func.count()).select_from(model))
            for model in WRITTEN
        }


async def test_allocating_twice_writes_once_and_returns_the_same_receipt(db):
    members = [participant(1), participant(2, office=OFFICE_B)]
    lines = [line(members[0], position=1), line(members[1], position=2, monthly=73_710)]
    request = await _prepare(db, "app-1", members, lines)

    first = await allocate(db, request)
    counts = await _counts(db)
    second = await allocate(db, request)
    third = await allocate(db, request)

    assert first == second == third
    assert await _counts(db) == counts
    assert counts == {
        "allocations": 2,
        "bank_payments": 1,
        "household_contributions": 2,
        "receipt_lines": 2,
        "receipts": 1,
        "revenue_entries": 2,
        "validity_history": 2,
    }
    receipt = first.receipt
    total = 105_300 * 12 + 73_710 * 12
    assert (receipt.series, receipt.year, receipt.number, receipt.total) == (SERIES, 2026, 1, total)
    assert receipt.total_in_words == amount_in_words(total)
    assert receipt.verification_code == verification_code("app-1", SERIES, 2026, 1)
    assert receipt.bank_tran_no == request.payment.bank_tran_no and receipt.txn_ref == request.payment.txn_ref
    assert [x.card_number for x in receipt.lines] == [m["card_number"] for m in members]
    assert [a.office_code for a in first.allocations] == [OFFICE_A, OFFICE_B]
    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.repo.get_receipt("app-1") == receipt
        application = await uow.repo.get_application("app-1")
        assert application.status == "completed" and application.allocated_at is not None
        assert await uow.repo.reserved_by(members[0]["bhxh_number"]) is None
        assert await uow.repo.payment_confirmed(request.payment.txn_ref)


async def test_concurrent_retries_of_one_allocation_write_once(db):
    members = [participant(1)]
    request = await _prepare(db, "app-1", members, [line(members[0])])
    results = await asyncio.gather(*(allocate(db, request) for _ in range(5)))
    assert all(r == results[0] for r in results)
    assert (await _counts(db))["receipts"] == 1


async def test_fifty_concurrent_allocations_take_fifty_consecutive_receipt_numbers(db):
    requests = []
    for i in range(50):
        member = participant(1000 + i, office=OFFICE_A if i % 2 else OFFICE_B)
        requests.append(await _prepare(db, f"app-{i:03d}", [member], [line(member)]))
    results = await asyncio.gather(*(allocate(db, r) for r in requests))
    numbers = sorted(r.receipt.number for r in results)
    assert numbers == list(range(1, 51))
    assert len({r.receipt.verification_code for r in results}) == 50
    async with db.unit_of_work(read_only=True) as uow:
        revenue = await uow.repo.revenue_by_office("2026-03")
    assert revenue == {OFFICE_A: 25 * 105_300 * 12, OFFICE_B: 25 * 105_300 * 12}


async def test_validity_is_extended_by_the_rules_and_its_history_kept(db):
    members = [
        participant(1, valid_to=date(2026, 11, 30)),  # still valid: continues after expiry
        participant(2, valid_to=date(2026, 1, 15)),  # lapsed 46 days: from the payment date
        participant(3, valid_to=date(2025, 11, 30)),  # lapsed 92 days: 30 days after payment
        participant(4, valid_to=None),  # never participated: 30 days after payment
    ]
    lines = [
        line(members[0], position=1, months=12),
        line(members[1], position=2, months=6, monthly=73_710),
        line(members[2], position=3, months=3, monthly=63_180),
        line(members[3], position=4, months=12, monthly=52_650),
    ]
    request = await _prepare(db, "app-1", members, lines)
    result = await allocate(db, request)
    expected = [
        (date(2026, 11, 30), date(2026, 12, 1), date(2027, 11, 30)),
        (date(2026, 1, 15), date(2026, 3, 2), date(2026, 9, 1)),
        (date(2025, 11, 30), date(2026, 4, 1), date(2026, 6, 30)),
        (None, date(2026, 4, 1), date(2027, 3, 31)),
    ]
    assert [(a.old_valid_to, a.valid_from, a.valid_to) for a in result.allocations] == expected
    assert [(x.valid_from, x.valid_to) for x in result.receipt.lines] == [e[1:] for e in expected]
    async with db.unit_of_work(read_only=True) as uow:
        cards = {
            p.bhxh_number: (p.valid_from, p.valid_to)
            for p in await uow.session.scalars(select(ParticipantRow))
        }
        history = {
            h.bhxh_number: (h.old_valid_to, h.new_valid_from, h.new_valid_to)
            for h in await uow.session.scalars(select(ValidityHistoryRow))
        }
        contributions = sorted(
            (c.bhxh_number, c.position, c.months, c.amount, c.fiscal_year)
            for c in await uow.session.scalars(select(HouseholdContributionRow))
        )
        assert await uow.repo.paid_members_count("HN-BD-0001", 2026, []) == 4
    for m, (old_to, new_from, new_to) in zip(members, expected, strict=True):
        assert cards[m["bhxh_number"]] == (new_from, new_to)
        assert history[m["bhxh_number"]] == (old_to, new_from, new_to)
    assert contributions == [
        (m["bhxh_number"], x.position, x.months, x.amount, 2026) for m, x in zip(members, lines, strict=True)
    ]


async def test_revenue_is_recorded_per_office_and_period(db):
    a, b, c = participant(1), participant(2, office=OFFICE_B), participant(3, office=OFFICE_B)
    await allocate(db, await _prepare(db, "app-1", [a, b], [line(a), line(b, position=2, monthly=73_710)]))
    await allocate(db, await _prepare(db, "app-2", [c], [line(c, months=3)], household="HN-CG-0002"))
    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.repo.revenue_by_office("2026-03") == {
            OFFICE_A: 105_300 * 12,
            OFFICE_B: 73_710 * 12 + 105_300 * 3,
        }
        assert await uow.repo.revenue_by_office("2026-04") == {}
        entries = (await uow.session.scalars(select(RevenueEntryRow).order_by(RevenueEntryRow.id))).all()
    assert [(e.application_id, e.office_code, e.card_count) for e in entries] == [
        ("app-1", OFFICE_A, 1),
        ("app-1", OFFICE_B, 1),
        ("app-2", OFFICE_B, 1),
    ]


async def test_a_payment_that_does_not_match_writes_nothing(db):
    member = participant(1)
    request = await _prepare(db, "app-1", [member], [line(member)])
    wrong = request.model_copy(update={"payment": payment(request.payment.txn_ref, 1)})
    with pytest.raises(PaymentMismatchError):
        await allocate(db, wrong)
    assert set((await _counts(db)).values()) == {0}
    # the counter was not advanced either: the next receipt is still number 1
    assert (await allocate(db, request)).receipt.number == 1


async def test_a_bank_transaction_cannot_pay_two_applications(db):
    a, b = participant(1), participant(2)
    first = await _prepare(db, "app-1", [a], [line(a)])
    second = await _prepare(db, "app-2", [b], [line(b)])
    await allocate(db, first)
    reused = second.model_copy(
        update={"payment": payment(second.payment.txn_ref, second.payment.amount, first.payment.bank_tran_no)}
    )
    with pytest.raises((PaymentAlreadyAllocatedError, PaymentMismatchError)):
        await allocate(db, reused)
    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.repo.get_receipt("app-2") is None
