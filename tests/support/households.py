"""Households for the reminder and stats tests: participants, the household-form register that
links them to a household, and the applications that name a declarant."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from adapters.db import ApplicationRecord, Database
from domain.models import Declaration
from tests.adapters.db.db_builders import participant


def household(code: str, first: int, valid_to: list[date], *, group: str = "GD") -> dict[str, Any]:
    """A reference-data file (DESIGN §6 shape) of one household: one participant per date, each
    with a household-form payment under `code` (what makes them the household's cards)."""
    people = [participant(first + i, valid_to=v, group=group) for i, v in enumerate(valid_to)]
    return {
        "participants": people,
        "household_contributions": [
            {
                "bhxh_number": p["bhxh_number"],
                "household_code": code,
                "fiscal_year": 2025,
                "paid_on": "2025-12-01",
                "months": 12,
                "position": i + 1,
                "amount": 1_263_600,
            }
            for i, p in enumerate(people)
        ],
    }


def declaration_of(data: dict[str, Any], months: int = 12) -> Declaration:
    people = data["participants"]
    head = people[0]
    return Declaration.model_validate(
        {
            "head": {k: head[k] for k in ("full_name", "date_of_birth", "gender", "personal_id")},
            "members": [
                {
                    "card_number": p["card_number"],
                    "full_name": p["full_name"],
                    "date_of_birth": p["date_of_birth"],
                    "gender": p["gender"],
                    "relationship": "chủ hộ" if i == 0 else "con",
                    "months": months,
                }
                for i, p in enumerate(people)
            ],
        }
    )


async def load(db: Database, data: dict[str, Any]) -> None:
    async with db.unit_of_work() as uow:
        await uow.repo.load_reference_data(data)
        await uow.commit()


async def declared(
    db: Database,
    application_id: str,
    household_code: str | None,
    status: str,
    *,
    created_at: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """An application of the household as the workflow records it (its declaration, its status)."""
    async with db.unit_of_work() as uow:
        await uow.repo.save_application(
            ApplicationRecord(
                application_id=application_id,
                status=status,
                household_code=household_code,
                province_code="01",
                member_count=len(data["participants"]) if data else 1,
                declaration=declaration_of(data) if data else None,
                created_at=created_at,
                updated_at=created_at,
            )
        )
        await uow.commit()


def at(day: date, hour: int = 3) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
