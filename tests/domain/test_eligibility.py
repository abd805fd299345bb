from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.eligibility import REASON_MESSAGES, check_member, names_match, shared_residence
from domain.models import Citizen, Gender, IneligibilityReason, Member, Participant, Residence

R = IneligibilityReason


def citizen(permanent: str | None = "P1", temporary: str | None = None, **overrides: Any) -> Citizen:
    data: dict[str, Any] = {
        "personal_id": "001080012345",
        "full_name": "Nguyễn Văn An",
        "date_of_birth": date(1980, 5, 12),
        "gender": Gender.MALE,
        "permanent_residence": Residence(code=permanent, address="Hà Nội") if permanent else None,
        "temporary_residence": Residence(code=temporary, address="TP HCM") if temporary else None,
    }
    data.update(overrides)
    return Citizen(**data)


def test_shared_permanent_residence() -> None:
    assert shared_residence([citizen("P1", "T1"), citizen("P1", "T2")]) == "P1"


def test_falls_back_to_shared_temporary_residence() -> None:
    assert shared_residence([citizen("P1", "T1"), citizen("P2", "T1")]) == "T1"
    assert shared_residence([citizen(None, "T1"), citizen("P2", "T1")]) == "T1"


def test_no_shared_residence() -> None:
    assert shared_residence([citizen("P1", "T1"), citizen("P2", "T2")]) is None
    assert shared_residence([citizen("P1", None), citizen("P2", None)]) is None
    assert shared_residence([citizen(None, None), citizen(None, None)]) is None
    assert shared_residence([citizen("P1", "T1"), citizen(None, None)]) is None


def test_shared_residence_edge_sizes() -> None:
    assert shared_residence([]) is None
    assert shared_residence([citizen("P9")]) == "P9"
    assert shared_residence([citizen(None, "T9")]) == "T9"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Nguyễn Văn An", "nguyễn văn an", True),
        ("Nguyễn Văn An", "  NGUYỄN   Văn\tAn ", True),
        ("Nguyễn Văn An", "Nguye\u0302\u0303n Va\u0306n An", True),  # decomposed diacritics
        ("Nguyễn Văn An", "Nguyen Van An", False),  # diacritics matter
        ("Nguyễn Văn An", "Nguyễn Văn Ân", False),
        ("Đỗ Thị Hà", "đỗ thị hà", True),
    ],
)
def test_names_match(a: str, b: str, same: bool) -> None:
    assert names_match(a, b) is same


MEMBER = Member(
    card_number="GD4010123456789",
    full_name="Nguyễn Văn An",
    date_of_birth=date(1980, 5, 12),
    gender=Gender.MALE,
    relationship="chủ hộ",
    months=12,
)


def participant(**overrides: Any) -> Participant:
    data: dict[str, Any] = {
        "personal_id": "001080012345",
        "bhxh_number": "0123456789",
        "card_number": "GD4010123456789",
        "full_name": "nguyễn văn  an",
        "date_of_birth": date(1980, 5, 12),
        "gender": Gender.MALE,
        "group": "GD",
        "province_code": "01",
        "office_code": "01001",
        "valid_from": date(2025, 1, 1),
        "valid_to": date(2025, 12, 31),
    }
    data.update(overrides)
    return Participant(**data)


def test_eligible_member() -> None:
    check = check_member(MEMBER, participant(), citizen(), held_by_other_application=False)
    assert check.eligible and check.reason is None and check.message is None
    assert check.bhxh_number == "0123456789"
    assert check.card_number == MEMBER.card_number


@pytest.mark.parametrize(
    ("found", "overrides", "living", "held", "reason"),
    [
        (False, {}, citizen(), False, R.CARD_NOT_FOUND),
        (True, {"full_name": "Nguyễn Văn Anh"}, citizen(), False, R.IDENTITY_MISMATCH),
        (True, {"date_of_birth": date(1980, 5, 13)}, citizen(), False, R.IDENTITY_MISMATCH),
        (True, {"gender": Gender.FEMALE}, citizen(), False, R.IDENTITY_MISMATCH),
        (True, {"group": "DN"}, citizen(), False, R.NOT_HOUSEHOLD_GROUP),
        (True, {"group": "HS"}, citizen(), False, R.NOT_HOUSEHOLD_GROUP),
        (True, {}, citizen(), True, R.IN_OTHER_APPLICATION),
        (True, {}, None, False, R.NOT_IN_REGISTRY),
        (True, {}, citizen(deceased=True), False, R.DECEASED),
        # the order of the checks decides when several fail
        (False, {}, None, True, R.CARD_NOT_FOUND),
        (True, {"full_name": "Trần Bình", "group": "DN"}, None, True, R.IDENTITY_MISMATCH),
        (True, {"group": "HT"}, citizen(deceased=True), True, R.NOT_HOUSEHOLD_GROUP),
        (True, {}, None, True, R.IN_OTHER_APPLICATION),
    ],
)
def test_ineligible_reasons_in_order(
    found: bool, overrides: dict[str, Any], living: Citizen | None, held: bool, reason: IneligibilityReason
) -> None:
    record = participant(**overrides) if found else None
    check = check_member(MEMBER, record, living, held_by_other_application=held)
    assert not check.eligible
    assert check.reason is reason
    if reason is IneligibilityReason.IDENTITY_MISMATCH:
        assert check.mismatched_fields and check.message and "không khớp" in check.message
    else:
        assert check.message == REASON_MESSAGES[reason]
    assert check.bhxh_number is None
    assert check.card_number == MEMBER.card_number


def test_every_reason_has_a_message_without_personal_data() -> None:
    assert set(REASON_MESSAGES) == set(IneligibilityReason)
    assert REASON_MESSAGES[R.CARD_NOT_FOUND] == "Không tìm thấy thẻ BHYT trong cơ sở dữ liệu BHXH"
    for message in REASON_MESSAGES.values():
        for personal in (MEMBER.full_name, MEMBER.card_number, "0123456789", "1980", "12/05"):
            assert personal not in message
        assert not any(ch.isdigit() for ch in message)
