"""Other-group members whose card has lapsed join the household form (issue 11, point 7; DESIGN §2)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from adapters.db.orm import ParticipantRow, ValidityHistoryRow
from domain.eligibility import check_member
from domain.models import Citizen, Gender, IneligibilityReason, Member, Participant
from tests.support import reference_data
from tests.support.portal import declaration, person, portal

KHANH = 4  # an employee (DN) card in the reference data, household HN-BD-0001


def _record(group: str, valid_to: date | None) -> Participant:
    return Participant(
        personal_id="001195090123",
        bhxh_number="0101234571",
        card_number=f"{group}4010101234571",
        full_name="Nguyễn Thị Khánh",
        date_of_birth=date(1995, 11, 30),
        gender=Gender.FEMALE,
        group=group,
        province_code="01",
        office_code="BHXH-HN-BD",
        valid_from=None,
        valid_to=valid_to,
    )


MEMBER = Member.model_validate(person(KHANH, relationship="em gái"))
LIVING = Citizen(
    personal_id="001195090123",
    full_name="Nguyễn Thị Khánh",
    date_of_birth=date(1995, 11, 30),
    gender=Gender.FEMALE,
)
TODAY = date(2026, 11, 25)


def test_a_lapsed_employee_or_student_card_is_eligible_on_a_household_card() -> None:
    """It was refused as not_household_group."""
    for group in ("DN", "HS"):
        for valid_to in (date(2026, 11, 24), date(2025, 1, 31), None):
            check = check_member(
                MEMBER, _record(group, valid_to), LIVING, held_by_other_application=False, on=TODAY
            )
            assert check.eligible, (group, valid_to)
            assert check.card_number == "GD4010101234571"
            assert check.bhxh_number == "0101234571"


def test_an_other_group_card_that_still_covers_the_period_is_not_renewed() -> None:
    for valid_to in (TODAY, date(2026, 12, 31)):
        check = check_member(
            MEMBER, _record("DN", valid_to), LIVING, held_by_other_application=False, on=TODAY
        )
        assert not check.eligible and check.reason is IneligibilityReason.NOT_HOUSEHOLD_GROUP


async def test_the_lapsed_member_is_renewed_on_a_gd_card_recorded_in_the_card_history(
    temporal_env: WorkflowEnvironment, tmp_path
) -> None:
    data = reference_data()
    data["participants"][KHANH]["valid_to"] = "2026-01-31"  # the employment ended: lapsed
    async with portal(temporal_env, tmp_path, data) as api:
        body = declaration(person(0, relationship="chủ hộ"), person(KHANH, relationship="em gái"))
        view = (await api.declare(body)).json()
        assert view["status"] == "awaiting_payment", view
        assert [line["card_number"] for line in view["quote"]["lines"]] == [
            "GD4010101234567",
            "GD4010101234571",
        ]

        final = await api.pay(view, at=datetime.now(UTC))
        assert final.status == "completed"
        assert final.receipt is not None
        assert final.receipt.lines[1].card_number == "GD4010101234571"
        async with api.db.unit_of_work(read_only=True) as uow:
            card = await uow.session.get(ParticipantRow, "0101234571")
            assert card is not None and card.card_number == "GD4010101234571" and card.group_code == "GD"
            history = (
                await uow.session.scalars(
                    select(ValidityHistoryRow).where(ValidityHistoryRow.bhxh_number == "0101234571")
                )
            ).one()
            assert (history.old_card_number, history.new_card_number) == (
                "DN4010101234571",
                "GD4010101234571",
            )
            # the other member kept their card: no card history entry for them
            unchanged = (
                await uow.session.scalars(
                    select(ValidityHistoryRow).where(ValidityHistoryRow.bhxh_number == "0101234567")
                )
            ).one()
            assert unchanged.old_card_number is None and unchanged.new_card_number is None
        # the DN card number resolves the same person afterwards (by its BHXH number)
        async with api.db.unit_of_work(read_only=True) as uow:
            found = await uow.repo.find_participant("DN4010101234571")
            assert found is not None and found.card_number == "GD4010101234571"
