"""Reference data (DESIGN §6): the participants and household contributions the demo and tests load."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.db.orm import HouseholdContributionRow, ParticipantRow
from adapters.db.records import ContributionIn, LoadSummary
from adapters.db.sql import Store, chunks, update_if_changed, utcnow
from domain.models import Participant


class ReferenceStore(Store):
    async def load_reference_data(self, data: Mapping[str, Any]) -> LoadSummary:
        """Upsert the file's participants and household contributions; loading twice changes nothing."""
        fields = Participant.model_fields
        participants = [
            Participant.model_validate({k: v for k, v in item.items() if k in fields})
            for item in data.get("participants", [])
        ]
        contributions = [
            ContributionIn.model_validate(item) for item in data.get("household_contributions", [])
        ]
        now = utcnow()
        counts: dict[str, int] = defaultdict(int)

        by_number = {p.bhxh_number: p for p in participants}
        existing: dict[str, ParticipantRow] = {}
        for chunk in chunks(sorted(by_number)):
            for row in await self.session.scalars(
                select(ParticipantRow).where(ParticipantRow.bhxh_number.in_(chunk))
            ):
                existing[row.bhxh_number] = row
        for number, p in by_number.items():
            values: dict[str, Any] = {
                "card_number": p.card_number.strip().upper(),
                "personal_id": p.personal_id,
                "full_name": p.full_name,
                "date_of_birth": p.date_of_birth,
                "gender": p.gender.value,
                "group_code": p.group,
                "province_code": p.province_code,
                "office_code": p.office_code,
                "valid_from": p.valid_from,
                "valid_to": p.valid_to,
            }
            current = existing.get(number)
            if current is None:
                self.session.add(ParticipantRow(bhxh_number=number, updated_at=now, **values))
                counts["participants_inserted"] += 1
            elif update_if_changed(current, values):
                current.updated_at = now
                counts["participants_updated"] += 1
            else:
                counts["participants_unchanged"] += 1
        await self.session.flush()

        def natural_key(c: Any) -> tuple[str, str, int, date]:
            return (c.bhxh_number, c.household_code, c.fiscal_year, c.paid_on)

        wanted = {natural_key(c): c for c in contributions}
        households = sorted({c.household_code for c in contributions})
        loaded: dict[tuple[str, str, int, date], HouseholdContributionRow] = {}
        for chunk in chunks(households):
            for contribution in await self.session.scalars(
                select(HouseholdContributionRow).where(
                    HouseholdContributionRow.household_code.in_(chunk),
                    HouseholdContributionRow.application_id.is_(None),
                )
            ):
                loaded[natural_key(contribution)] = contribution
        for key, c in wanted.items():
            changes: dict[str, Any] = {
                "position": c.position,
                "months": c.months,
                "amount": c.amount,
                "valid_from": c.valid_from,
                "valid_to": c.valid_to,
            }
            found = loaded.get(key)
            if found is None:
                self.session.add(
                    HouseholdContributionRow(
                        bhxh_number=c.bhxh_number,
                        household_code=c.household_code,
                        fiscal_year=c.fiscal_year,
                        paid_on=c.paid_on,
                        application_id=None,
                        created_at=now,
                        **changes,
                    )
                )
                counts["contributions_inserted"] += 1
            elif update_if_changed(found, changes):
                counts["contributions_updated"] += 1
            else:
                counts["contributions_unchanged"] += 1
        await self.session.flush()
        return LoadSummary(**counts)


async def held_by_others(session: AsyncSession, data: Mapping[str, Any]) -> list[tuple[int, str]]:
    """`(index, field)` of each participant of the file whose card number or personal number
    another BHXH number already holds in the database (why a load was refused)."""
    held = []
    for index, item in enumerate(data.get("participants") or []):
        for field in ("card_number", "personal_id"):
            value = item.get(field)
            if not value:
                continue
            column = getattr(ParticipantRow, field)
            holder = await session.scalar(
                select(ParticipantRow.bhxh_number).where(
                    column == str(value).strip().upper() if field == "card_number" else column == value,
                    ParticipantRow.bhxh_number != item.get("bhxh_number"),
                )
            )
            if holder is not None:
                held.append((index, field))
    return held
