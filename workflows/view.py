"""The members of an application's view as the steps change them (pure, used by the workflow)."""

from __future__ import annotations

from activities.inputs import AllocateResult
from domain.models import MemberCheck, MemberOutcome


def checked(checks: list[MemberCheck]) -> list[MemberOutcome]:
    """Step 2b's answer: pending for the eligible, ineligible with the reason for the others."""
    return [
        MemberOutcome(card_number=c.card_number, result="pending")
        if c.eligible
        else MemberOutcome(card_number=c.card_number, result="ineligible", reason=c.reason, message=c.message)
        for c in checks
    ]


def renewed(members: list[MemberOutcome], result: AllocateResult) -> list[MemberOutcome]:
    """Step 4's answer: each allocated card renewed with its new validity."""
    cards = {a.card_number: a for a in result.allocations}
    return [
        m.model_copy(
            update={
                "result": "renewed",
                "valid_from": cards[m.card_number].valid_from,
                "valid_to": cards[m.card_number].valid_to,
            }
        )
        if m.card_number in cards
        else m
        for m in members
    ]
