"""Test data in the shapes the activities and the DESIGN §6 file use."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from domain.models import PaymentReceived, QuoteLine

OFFICE_A = "BHXH-HN-BD"
OFFICE_B = "BHXH-HN-CG"


def participant(
    n: int,
    *,
    valid_to: date | None = date(2026, 11, 30),
    group: str = "GD",
    office: str = OFFICE_A,
    province: str = "01",
) -> dict:
    """A participant in the shape of the DESIGN §6 file; n keeps numbers unique within a test."""
    bhxh = f"01{n:08d}"
    return {
        "personal_id": f"0010800{n:05d}",
        "bhxh_number": bhxh,
        "card_number": f"{group}4{province}{bhxh}",
        "full_name": f"Nguyễn Văn Thành Viên {n}",
        "date_of_birth": "1980-05-12",
        "gender": "male",
        "group": group,
        "province_code": province,
        "office_code": office,
        "valid_from": None if valid_to is None else "2025-12-01",
        "valid_to": None if valid_to is None else valid_to.isoformat(),
    }


def line(p: dict, *, position: int = 1, months: int = 12, monthly: int = 105_300) -> QuoteLine:
    return QuoteLine(
        card_number=p["card_number"],
        bhxh_number=p["bhxh_number"],
        member_name=p["full_name"],
        position=position,
        base_salary=2_340_000,
        rate_percent="4.5",
        monthly_amount=monthly,
        months=months,
        amount=monthly * months,
        valid_from=date(2026, 12, 1),
        valid_to=date(2027, 11, 30),
        office_code=p["office_code"],
        province_code=p["province_code"],
    )


def payment(
    txn_ref: str, amount: int, bank_tran_no: str | None = None, *, paid: bool = True
) -> PaymentReceived:
    bank_tran_no = bank_tran_no or f"VNP{txn_ref}"
    return PaymentReceived(
        txn_ref=txn_ref,
        amount=amount,
        bank_code="NCB",
        bank_tran_no=bank_tran_no,
        transaction_no=hashlib.sha256(bank_tran_no.encode()).hexdigest()[:10],
        pay_date=datetime(2026, 3, 2, 3, 15, tzinfo=UTC),
        response_code="00" if paid else "24",
        transaction_status="00" if paid else "02",
    )
