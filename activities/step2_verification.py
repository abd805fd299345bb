"""Step 2 — xác thực & tính tiền: residence (2a), participation (2b), quote (2c)."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities.errors import REGISTRY_BAD_REQUEST, business_error
from activities.inputs import ParticipationInput, QuoteRequest, ResidenceInput, ResidenceResult
from adapters.db import Database
from adapters.registry import RegistryBadRequest, RegistryClient
from domain.application import vietnam_date
from domain.eligibility import (
    check_member,
    head_rejection,
    household_card,
    person_keys,
    same_person_pairs,
    shared_residence,
)
from domain.fees import QuoteInput, compute_quote
from domain.fiscal_year import fiscal_year_of
from domain.identifiers import CardRef, parse_card_number
from domain.messages import duplicate_rejection, household_in_progress
from domain.models import Citizen, Member, MemberCheck, Participant, Quote


def _card_ref(card: str) -> CardRef | None:
    try:
        return parse_card_number(card)
    except ValueError:
        return None


class VerificationActivities:
    def __init__(self, db: Database, registry: RegistryClient) -> None:
        self._db = db
        self._registry = registry

    async def _participants(self, card_numbers: list[str]) -> dict[str, Participant | None]:
        async with self._db.unit_of_work() as uow:
            return {card: await uow.repo.find_participant(card) for card in card_numbers}

    async def _citizens(self, personal_ids: set[str]) -> dict[str, Citizen]:
        try:
            return await self._registry.lookup(sorted(personal_ids))
        except RegistryBadRequest as exc:
            raise business_error(REGISTRY_BAD_REQUEST, f"registry refused the lookup: {exc}") from None

    @activity.defn(name="verify_residence")
    async def verify_residence(self, request: ResidenceInput) -> ResidenceResult:
        """2a: one person per line, the head as the registry knows them, one shared residence,
        and no other application of the household in progress — all before any quote.

        A card's holder is found by the personal number the card carries, or else through the
        BHXH record; members that cannot be resolved are left to step 2b, which rejects them.
        """
        participants = await self._participants(request.card_numbers)
        refs = [_card_ref(card) for card in request.card_numbers]
        pairs = same_person_pairs(person_keys(refs, [participants[c] for c in request.card_numbers]))
        if pairs:
            return ResidenceResult(
                household_code=None, people_checked=0, rejection=duplicate_rejection(pairs)
            )
        personal_ids = {request.head_personal_id}
        for card, ref in zip(request.card_numbers, refs, strict=True):
            participant = participants[card]
            personal_id = (ref.personal_id if ref else None) or (
                participant.personal_id if participant else None
            )
            if personal_id:
                personal_ids.add(personal_id)
        citizens = await self._citizens(personal_ids)
        if request.head is not None:
            rejection = head_rejection(request.head, citizens.get(request.head.personal_id))
            if rejection is not None:
                return ResidenceResult(household_code=None, people_checked=len(citizens), rejection=rejection)
        household_code = shared_residence(list(citizens.values()))
        if household_code is None:
            return ResidenceResult(household_code=None, people_checked=len(citizens))
        async with self._db.unit_of_work() as uow:
            open_application = await uow.repo.claim_household(household_code, request.application_id)
            await uow.commit()
        if open_application is not None:
            return ResidenceResult(
                household_code=None,
                people_checked=len(citizens),
                rejection=household_in_progress(open_application),
                open_application_id=open_application,
            )
        return ResidenceResult(household_code=household_code, people_checked=len(citizens))

    @activity.defn(name="check_participation")
    async def check_participation(self, request: ParticipationInput) -> list[MemberCheck]:
        """2b: each member's BHYT record; the eligible members' cards are reserved for this application.

        The reservation is a database constraint, so two applications racing for one card
        cannot both win; the loser's member is reported as in another application.
        """
        participants = await self._participants([m.card_number for m in request.members])
        today = vietnam_date(datetime.now(UTC))
        ids = {p.personal_id for p in participants.values() if p and p.personal_id}
        citizens = await self._citizens(ids) if ids else {}

        def check(member: Member, held: bool) -> MemberCheck:
            participant = participants[member.card_number]
            citizen = (
                citizens.get(participant.personal_id) if participant and participant.personal_id else None
            )
            return check_member(member, participant, citizen, held_by_other_application=held, on=today)

        checks = [check(member, False) for member in request.members]
        wanted = [c.bhxh_number for c in checks if c.eligible and c.bhxh_number]
        async with self._db.unit_of_work() as uow:
            taken = set(await uow.repo.reserve_cards(request.application_id, wanted))
            await uow.commit()
        return [
            check(member, True) if result.eligible and result.bhxh_number in taken else result
            for member, result in zip(request.members, checks, strict=True)
        ]

    @activity.defn(name="compute_quote")
    async def compute_quote(self, request: QuoteRequest) -> Quote:
        """2c: the amount per card in reduction order, after the members who already paid this year."""
        members = [m for m, c in zip(request.members, request.checks, strict=True) if c.eligible]
        participants = await self._participants([m.card_number for m in members])
        inputs = []
        for member in members:
            participant = participants[member.card_number]
            assert participant is not None, "an eligible member has a BHXH record"
            inputs.append(
                QuoteInput(
                    card_number=household_card(participant),  # the record's form, whatever was typed
                    bhxh_number=participant.bhxh_number,
                    member_name=member.full_name,
                    months=member.months,
                    current_valid_to=participant.valid_to,
                    office_code=participant.office_code,
                    province_code=participant.province_code,
                )
            )
        async with self._db.unit_of_work() as uow:
            paid_before = await uow.repo.paid_members_count(
                request.household_code,
                fiscal_year_of(request.quote_date),
                exclude_bhxh=[i.bhxh_number for i in inputs],
            )
        return compute_quote(inputs, paid_positions_before=paid_before, quote_date=request.quote_date)
