"""Quote 31/12 → pay 1/1 → a new member declared 2/1 (issue 11, point 8; domain/fiscal_year.py).

Through the real step 2c and step 4 activities on both databases: the payment is booked in the
fiscal year of its date, with the positions it was quoted, and the next quote counts it there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from activities.inputs import AllocateInput, QuoteRequest
from activities.step2_verification import VerificationActivities
from activities.step4_allocation import AllocationActivities
from adapters.db import ApplicationRecord
from domain.models import Member, MemberCheck, PaymentReceived, Quote
from tests.adapters.db.db_builders import participant

HOUSEHOLD = "HN-BD-0042"


def _member(p: dict) -> Member:
    return Member.model_validate(
        {
            "card_number": p["card_number"],
            "full_name": p["full_name"],
            "date_of_birth": p["date_of_birth"],
            "gender": p["gender"],
            "relationship": "con",
            "months": 12,
        }
    )


async def _quote(db, application_id: str, members: list[dict], on: date) -> Quote:
    steps = VerificationActivities(db, registry=None)  # type: ignore[arg-type]
    return await steps.compute_quote(
        QuoteRequest(
            application_id=application_id,
            household_code=HOUSEHOLD,
            quote_date=on,
            members=[_member(p) for p in members],
            checks=[
                MemberCheck(card_number=p["card_number"], eligible=True, bhxh_number=p["bhxh_number"])
                for p in members
            ],
        )
    )


async def test_a_payment_across_new_year_counts_in_the_year_it_was_paid(db):
    a, b, c = participant(71), participant(72), participant(73)
    earlier = participant(74)  # paid in the household form in 2026
    async with db.unit_of_work() as uow:
        await uow.repo.load_reference_data(
            {
                "participants": [a, b, c, earlier],
                "household_contributions": [
                    {
                        "bhxh_number": earlier["bhxh_number"],
                        "household_code": HOUSEHOLD,
                        "fiscal_year": 2026,
                        "paid_on": "2026-02-01",
                        "months": 12,
                        "position": 1,
                        "amount": 1_263_600,
                    }
                ],
            }
        )
        await uow.commit()

    # 31/12/2026: one member already paid in 2026, so a and b are 2nd and 3rd
    quote = await _quote(db, "app-dec31", [a, b], date(2026, 12, 31))
    assert [line.position for line in quote.lines] == [2, 3]

    # paid on 1/1/2027, 00:30 in Vietnam
    txn_ref = "TXN-DEC31"
    async with db.unit_of_work() as uow:
        await uow.repo.save_application(
            ApplicationRecord(
                application_id="app-dec31",
                status="awaiting_payment",
                household_code=HOUSEHOLD,
                txn_ref=txn_ref,
                amount=quote.total,
            )
        )
        await uow.commit()
    paid = PaymentReceived(
        txn_ref=txn_ref,
        amount=quote.total,
        bank_code="NCB",
        bank_tran_no="VNP-NEWYEAR",
        transaction_no="90000001",
        pay_date=datetime(2026, 12, 31, 17, 30, tzinfo=UTC),
        response_code="00",
        transaction_status="00",
    )
    result = await AllocationActivities(db, bank=None).allocate(  # type: ignore[arg-type]
        AllocateInput(
            application_id="app-dec31",
            household_code=HOUSEHOLD,
            payer_name="Nguyễn Văn An",
            receipt_series="BH27",
            payment=paid,
            lines=quote.lines,
        )
    )
    assert result.receipt.year == 2027 and result.receipt.issued_on == date(2027, 1, 1)

    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.repo.paid_members_count(HOUSEHOLD, 2027) == 2
        assert await uow.repo.paid_members_count(HOUSEHOLD, 2026) == 1  # 2026 is not rewritten

    # 2/1/2027: c comes after the two paid on 1/1 (and not after the 2026 payer)
    next_quote = await _quote(db, "app-jan02", [c], date(2027, 1, 2))
    assert [line.position for line in next_quote.lines] == [3]
    assert next_quote.paid_positions_before == 2
