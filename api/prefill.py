"""The pre-filled declaration a reminder links to: the household's members as last declared,
each with the card BHXH holds for them today.

The portal shows it as the renewal form; `declaration` is a valid body for `POST /renewals` as it
stands (the declarant edits months, removes or adds members). Behind the portal token, like
every other route that returns personal data.
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.answers import NOT_FOUND, UNAUTHORIZED, refused
from api.deps import PortalCaller, ServicesDep
from domain.models import Declaration
from services.errors import UseCaseError
from services.prefill import latest_declaration

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
    try:
        latest, participants = await latest_declaration(svc.db, application_id)
    except UseCaseError as exc:
        raise refused(exc) from None
    assert latest.declaration is not None
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
