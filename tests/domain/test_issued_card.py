"""A lapsed other-group card renewed in the household form is issued as GD (domain.allocation)."""

from __future__ import annotations

from datetime import date

from domain.allocation import CardValidity, issued_card, plan_allocation
from domain.models import QuoteLine


def _card(card_number: str | None, group: str | None) -> CardValidity:
    return CardValidity(
        bhxh_number="0101234571",
        office_code="BHXH-HN-BD",
        valid_from=None,
        valid_to=date(2026, 1, 31),
        card_number=card_number,
        group=group,
    )


def test_only_a_quoted_gd_card_for_an_other_group_card_is_issued() -> None:
    assert issued_card(_card("DN4010101234571", "DN"), "GD4010101234571") == "GD4010101234571"
    assert issued_card(_card("HS3010101234571", "HS"), "GD3010101234571") == "GD3010101234571"
    assert issued_card(_card("GD4010101234571", "GD"), "GD4010101234571") is None
    assert issued_card(_card("DN4010101234571", "DN"), "DN4010101234571") is None
    assert issued_card(_card("DN4010101234571", "DN"), "0101234571") is None  # an old quote, as typed
    assert issued_card(_card(None, None), "GD4010101234571") is None


def test_the_plan_carries_the_issued_card_and_books_the_payment_year() -> None:
    line = QuoteLine(
        card_number="GD4010101234571",
        bhxh_number="0101234571",
        member_name="Nguyễn Thị Khánh",
        position=1,
        base_salary=2_340_000,
        rate_percent="4.5",
        monthly_amount=105_300,
        months=12,
        amount=1_263_600,
        valid_from=date(2027, 1, 1),
        valid_to=date(2027, 12, 31),
        office_code="BHXH-HN-BD",
        province_code="01",
    )
    plan = plan_allocation(
        [line],
        {"0101234571": _card("DN4010101234571", "DN")},
        household_code="HN-BD-0001",
        payment_date=date(2027, 1, 1),
    )
    assert plan.fiscal_year == 2027
    assert plan.contributions[0].issued_card == "GD4010101234571"
    assert plan.renewals[0].card_number == "GD4010101234571"
