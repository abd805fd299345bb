"""Model behaviour that crosses boundaries (HTTP, Temporal payloads, database JSON)."""

from __future__ import annotations

from datetime import date

from domain.models import Receipt, ReceiptLine


def test_receipt_label_is_serialised_and_accepted_back() -> None:
    receipt = Receipt(
        series="BH26",
        number=42,
        year=2026,
        issued_on=date(2026, 11, 24),
        payer_name="Nguyễn Văn An",
        lines=[
            ReceiptLine(
                card_number="GD4010101234568",
                full_name="Trần Thị Bình",
                months=12,
                valid_from=date(2026, 12, 1),
                valid_to=date(2027, 11, 30),
                amount=956_340,
            )
        ],
        total=956_340,
        total_in_words="Chín trăm năm mươi sáu nghìn ba trăm bốn mươi đồng",
        txn_ref="BHYT1",
        bank_tran_no="VNP1",
        verification_code="ABCDEF123456",
    )
    dumped = receipt.model_dump(mode="json")
    assert dumped["label"] == "BH26/2026/0000042"
    assert Receipt.model_validate(dumped) == receipt
    assert Receipt.model_validate_json(receipt.model_dump_json()).label == "BH26/2026/0000042"
