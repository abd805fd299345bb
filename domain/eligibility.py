"""Step 2 checks: the shared residence (2a) and each member's eligibility (2b).

The messages go back to the declarant and may be shown on screens and in the Temporal UI,
so they name the problem, never the person (no name, number or date of birth). Their words are
in `domain.messages`, except the per-reason texts of step 2b (`REASON_MESSAGES`), which stay
here beside the rule that picks the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain import messages
from domain.identifiers import CardRef
from domain.models import Citizen, Gender, Head, IneligibilityReason, Member, MemberCheck, Participant
from domain.names import same_name

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


def covered_by_other_group(participant: Participant, on: date) -> bool:
    """DESIGN §2 excludes only other-group members whose card still covers the period."""
    return participant.valid_to is not None and participant.valid_to >= on


def household_card(participant: Participant) -> str:
    """The card the household form gives: object code GD, the same benefit digit, province and
    BHXH number (the BHXH number, not the card, identifies the participant for life)."""
    if participant.group.strip().upper() == HOUSEHOLD_GROUP:
        return participant.card_number
    return HOUSEHOLD_GROUP + participant.card_number[2:]


def names_match(a: str, b: str) -> bool:
    """Same name despite composition, case, spacing, tone-mark placement (domain.names)."""
    return same_name(a, b)


def identity_mismatches(
    declared: Head | Member, full_name: str, date_of_birth: date, gender: Gender
) -> list[str]:
    """Which of full_name, date_of_birth, gender differ from a record, in that order."""
    fields = []
    if not same_name(declared.full_name, full_name):
        fields.append("full_name")
    if declared.date_of_birth != date_of_birth:
        fields.append("date_of_birth")
    if declared.gender != gender:
        fields.append("gender")
    return fields


def _ineligible(member: Member, reason: IneligibilityReason, card_number: str | None = None) -> MemberCheck:
    return MemberCheck(
        card_number=card_number or member.card_number,
        eligible=False,
        reason=reason,
        message=REASON_MESSAGES[reason],
    )


def check_member(
    member: Member,
    participant: Participant | None,
    citizen: Citizen | None,
    *,
    held_by_other_application: bool,
    on: date | None = None,
) -> MemberCheck:
    """Step 2b for one member; the first failing check, in the order of DESIGN §2, decides.

    `on` is the day of the check: a member of another group (employee, student, …) whose card
    has lapsed by then may join the household form; without it, every other-group card is
    treated as still covering the period."""
    if participant is None:
        return _ineligible(member, IneligibilityReason.CARD_NOT_FOUND)
    card = participant.card_number  # the record's 15-character form, whatever form was typed
    fields = identity_mismatches(member, participant.full_name, participant.date_of_birth, participant.gender)
    if fields:
        return MemberCheck(
            card_number=card,
            eligible=False,
            reason=IneligibilityReason.IDENTITY_MISMATCH,
            message=messages.mismatch_message(fields, messages.CARD_RECORD),
            mismatched_fields=fields,
        )
    if participant.group.strip().upper() != HOUSEHOLD_GROUP:
        if on is None or covered_by_other_group(participant, on):
            return _ineligible(member, IneligibilityReason.NOT_HOUSEHOLD_GROUP, card)
        card = household_card(participant)  # lapsed: joins the household form on a GD card
    if held_by_other_application:
        return _ineligible(member, IneligibilityReason.IN_OTHER_APPLICATION, card)
    if citizen is None:
        return _ineligible(member, IneligibilityReason.NOT_IN_REGISTRY, card)
    if citizen.deceased:
        return _ineligible(member, IneligibilityReason.DECEASED, card)
    return MemberCheck(card_number=card, eligible=True, bhxh_number=participant.bhxh_number)


def head_rejection(head: Head, citizen: Citizen | None) -> str | None:
    """Step 2a: the declared head must be the person the registry knows by that personal number.

    The message names the fields that differ (never their values), so the declarant can correct
    the form; None when the head is verified."""
    if citizen is None:
        return messages.HEAD_NOT_IN_REGISTRY
    fields = identity_mismatches(head, citizen.full_name, citizen.date_of_birth, citizen.gender)
    if not fields:
        return None
    return messages.head_mismatch(fields)


def person_keys(
    cards: Sequence[CardRef | None], participants: Sequence[Participant | None]
) -> list[str | None]:
    """Who each declared line is, whatever card form was typed: the BHXH number of the record
    found, or else the number the card carries (a personal number that a found record carries
    resolves to that record)."""
    by_personal_id = {p.personal_id: p.bhxh_number for p in participants if p is not None and p.personal_id}
    keys: list[str | None] = []
    for card, participant in zip(cards, participants, strict=True):
        if participant is not None:
            keys.append(participant.bhxh_number)
        elif card is None:
            keys.append(None)
        elif card.personal_id is not None:
            keys.append(by_personal_id.get(card.personal_id, card.personal_id))
        else:
            keys.append(card.bhxh_number)
    return keys


def same_person_pairs(keys: Sequence[str | None]) -> list[tuple[int, int]]:
    """(first, later) member indexes that name one person."""
    first: dict[str, int] = {}
    pairs = []
    for index, key in enumerate(keys):
        if key is None:
            continue
        if key in first:
            pairs.append((first[key], index))
        else:
            first[key] = index
    return pairs
