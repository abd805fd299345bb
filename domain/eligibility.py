"""Step 2 checks: the shared residence (2a) and each member's eligibility (2b).

The messages go back to the declarant and may be shown on screens and in the Temporal UI,
so they name the problem, never the person (no name, number or date of birth).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from domain.models import Citizen, IneligibilityReason, Member, MemberCheck, Participant

HOUSEHOLD_GROUP = "GD"

REASON_MESSAGES: dict[IneligibilityReason, str] = {
    IneligibilityReason.CARD_NOT_FOUND: "Không tìm thấy thẻ BHYT trong cơ sở dữ liệu BHXH",
    IneligibilityReason.IDENTITY_MISMATCH: (
        "Họ tên, ngày sinh hoặc giới tính kê khai không khớp với thông tin thẻ BHYT trong cơ sở dữ liệu BHXH"
    ),
    IneligibilityReason.NOT_HOUSEHOLD_GROUP: (
        "Người tham gia đang có thẻ BHYT thuộc nhóm đối tượng khác, không gia hạn theo hộ gia đình"
    ),
    IneligibilityReason.IN_OTHER_APPLICATION: "Thẻ BHYT đang được gia hạn trong một hồ sơ khác chưa hoàn tất",
    IneligibilityReason.NOT_IN_REGISTRY: (
        "Không tìm thấy thông tin người tham gia trong Cơ sở dữ liệu quốc gia về dân cư"
    ),
    IneligibilityReason.DECEASED: "Cơ sở dữ liệu quốc gia về dân cư ghi nhận người tham gia đã qua đời",
}


def shared_residence(citizens: Sequence[Citizen]) -> str | None:
    """The residence code every member shares: permanent first, else temporary (step 2a)."""
    if not citizens:
        return None
    for codes in (
        {c.permanent_residence.code if c.permanent_residence else None for c in citizens},
        {c.temporary_residence.code if c.temporary_residence else None for c in citizens},
    ):
        if len(codes) == 1 and None not in codes:
            return codes.pop()
    return None


def _fold(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold()).split())


def names_match(a: str, b: str) -> bool:
    """Same name despite Unicode composition, letter case or spacing from different keyboards."""
    return _fold(a) == _fold(b)


def _ineligible(member: Member, reason: IneligibilityReason) -> MemberCheck:
    return MemberCheck(
        card_number=member.card_number, eligible=False, reason=reason, message=REASON_MESSAGES[reason]
    )


def check_member(
    member: Member,
    participant: Participant | None,
    citizen: Citizen | None,
    *,
    held_by_other_application: bool,
) -> MemberCheck:
    """Step 2b for one member; the first failing check, in the order of DESIGN §2, decides."""
    if participant is None:
        return _ineligible(member, IneligibilityReason.CARD_NOT_FOUND)
    if not (
        names_match(member.full_name, participant.full_name)
        and member.date_of_birth == participant.date_of_birth
        and member.gender == participant.gender
    ):
        return _ineligible(member, IneligibilityReason.IDENTITY_MISMATCH)
    if participant.group.strip().upper() != HOUSEHOLD_GROUP:
        return _ineligible(member, IneligibilityReason.NOT_HOUSEHOLD_GROUP)
    if held_by_other_application:
        return _ineligible(member, IneligibilityReason.IN_OTHER_APPLICATION)
    if citizen is None:
        return _ineligible(member, IneligibilityReason.NOT_IN_REGISTRY)
    if citizen.deceased:
        return _ineligible(member, IneligibilityReason.DECEASED)
    return MemberCheck(card_number=member.card_number, eligible=True, bhxh_number=participant.bhxh_number)
