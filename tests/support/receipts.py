"""A receipt of six members with Vietnamese names, as step 4 would have issued it."""

from __future__ import annotations

from datetime import date

from domain.models import Receipt, ReceiptLine
from domain.receipt_document import Issuer, ReceiptDocument, build_receipt_document
from domain.words import amount_in_words

SIX_MEMBERS = [
    ("GD4010101234567", "Nguyễn Văn An", 1263600),
    ("GD4010101234568", "Trần Thị Bích Ngọc", 884520),
    ("GD4010101234569", "Nguyễn Trần Quốc Bảo", 758160),
    ("GD4010101234570", "Nguyễn Thị Thu Hương", 631800),
    ("GD4010101234571", "Lê Đức Thắng", 505440),
    ("GD4010101234572", "Phạm Ngọc Ánh Dương", 505440),
]
ISSUER = Issuer(
    name="BẢO HIỂM XÃ HỘI VIỆT NAM", address="Số 7 Tràng Thi, Hoàn Kiếm, Hà Nội", tax_code="0101234567"
)
LOOKUP_CODE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def six_member_receipt() -> Receipt:
    lines = [
        ReceiptLine(
            card_number=card,
            full_name=name,
            months=12,
            valid_from=date(2026, 12, 1),
            valid_to=date(2027, 11, 30),
            amount=amount,
        )
        for card, name, amount in SIX_MEMBERS
    ]
    total = sum(line.amount for line in lines)
    return Receipt(
        series="BH26",
        number=42,
        year=2026,
        issued_on=date(2026, 11, 25),
        payer_name="Nguyễn Văn An",
        lines=lines,
        total=total,
        total_in_words=amount_in_words(total),
        txn_ref="BHYT26112500001",
        bank_tran_no="VNP14612345",
        verification_code="0123456789AB",
    )


def six_member_document(
    *, refunded: bool = False, base_url: str = "https://bhyt.example.vn"
) -> ReceiptDocument:
    return build_receipt_document(
        six_member_receipt(),
        issuer=ISSUER,
        template_symbol="01BLP0-001",
        fee_name="Tiền đóng bảo hiểm y tế hộ gia đình",
        positions={no: no for no in range(1, 7)},
        lookup_code=LOOKUP_CODE,
        lookup_url=f"{base_url}/receipts/{LOOKUP_CODE}",
        refunded=refunded,
    )


async def issue_six_member_receipt(db, application_id: str = "app-receipt-6") -> str:
    """Load six participants with Vietnamese names and allocate a payment for them (step 4),
    through the repository as the worker does; the receipt's public code."""
    from adapters.db import AllocationRequest, ApplicationRecord
    from adapters.db.allocate import allocate
    from tests.adapters.db.db_builders import line, participant, payment

    members = []
    for n, (_card, name, _amount) in enumerate(SIX_MEMBERS, start=1):
        p = participant(900 + n)
        p["full_name"] = name
        members.append(p)
    lines = [line(p, position=n, monthly=105_300 - 10_000 * (n - 1)) for n, p in enumerate(members, start=1)]
    txn_ref = f"T{application_id}"
    async with db.unit_of_work() as uow:
        await uow.repo.load_reference_data({"participants": members})
        await uow.repo.save_application(
            ApplicationRecord(
                application_id=application_id,
                status="allocating",
                household_code="HN-BD-0006",
                member_count=len(lines),
                txn_ref=txn_ref,
                amount=sum(x.amount for x in lines),
            )
        )
        await uow.repo.reserve_cards(application_id, [m["bhxh_number"] for m in members])
        await uow.commit()
    await allocate(
        db,
        AllocationRequest(
            application_id=application_id,
            household_code="HN-BD-0006",
            payer_name=SIX_MEMBERS[0][1],
            series="BH26",
            payment=payment(txn_ref, sum(x.amount for x in lines)),
            payment_date=date(2026, 3, 2),
            lines=lines,
        ),
    )
    from adapters.db.receipt_lookup import receipt_by_application

    async with db.unit_of_work(read_only=True) as uow:
        stored = await receipt_by_application(uow, application_id)
    assert stored is not None
    return stored.public_code
