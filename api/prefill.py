"""The pre-filled declaration a reminder links to: the household's members as last declared,
each with the card BHXH holds for them today.

The portal shows it as the renewal form; `declaration` is a valid body for `POST /renewals` as it
stands (the declarant edits months, removes or adds members). Behind the portal token, like
every other route that returns personal data.
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from adapters.db.records import ApplicationRecord
from api.answers import NOT_FOUND, UNAUTHORIZED
from api.deps import PortalCaller, ServicesDep
from domain.models import Declaration

router = APIRouter(
    prefix="/api/v1/renewals", tags=["renewals"], dependencies=[PortalCaller], responses={**UNAUTHORIZED}
)


class CurrentCard(BaseModel):
    """The member's card as BHXH holds it today (after the last renewal, or a new GD card)."""

    card_number: str = Field(description="15-character card")
    group: str = Field(description="object group code: GD household, DN employee, HS student, ...")
    valid_from: date | None
    valid_to: date | None


class PrefilledDeclaration(BaseModel):
    based_on_application_id: str = Field(description="the household's most recent application")
    declared_at: datetime | None
    declaration: Declaration = Field(description="as last declared: a valid body for POST /renewals")
    current_cards: list[CurrentCard | None] = Field(
        description="one per member, in the declaration's order; null when BHXH has no such card"
    )


@router.get(
    "/{application_id}/prefill",
    response_model=PrefilledDeclaration,
    operation_id="getPrefilledDeclaration",
    summary="The household's members as last declared, with their current cards (the reminder's link)",
    responses={**NOT_FOUND},
)
async def get_prefilled_declaration(application_id: str, svc: ServicesDep) -> PrefilledDeclaration:
    """Any application of the household names it: the answer is always its most recent
    declaration, so a reminder's link stays right after a later application."""
    async with svc.db.unit_of_work(read_only=True) as uow:
        given = await uow.repo.get_application(application_id)
        if given is None or given.declaration is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such application")
        latest: ApplicationRecord = given
        if given.household_code is not None:
            last = await uow.repo.last_application_of(given.household_code)
            if last is not None and last.declaration is not None:
                latest = last
        assert latest.declaration is not None
        participants = [await uow.repo.find_participant(m.card_number) for m in latest.declaration.members]
    return PrefilledDeclaration(
        based_on_application_id=latest.application_id,
        declared_at=latest.created_at,
        declaration=latest.declaration,
        current_cards=[
            None
            if p is None
            else CurrentCard(
                card_number=p.card_number, group=p.group, valid_from=p.valid_from, valid_to=p.valid_to
            )
            for p in participants
        ],
    )
