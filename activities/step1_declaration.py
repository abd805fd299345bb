"""Step 1 — kê khai: validate the declaration again and record the application."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities.errors import DECLARATION_INVALID, business_error
from adapters.db import ApplicationRecord, Database
from domain.application import RenewalInput, vietnam_date
from domain.models import ApplicationStatus
from domain.validation import DeclarationInvalid, validate_declaration


class DeclarationActivities:
    def __init__(self, db: Database) -> None:
        self._db = db

    @activity.defn(name="record_declaration")
    async def record_declaration(self, request: RenewalInput) -> None:
        """Validate again (the workflow may be started by other clients than our API) and store it."""
        try:
            validate_declaration(request.declaration, today=vietnam_date(request.submitted_at))
        except DeclarationInvalid as exc:
            fields = ", ".join(".".join(str(part) for part in error.loc) for error in exc.errors)
            raise business_error(DECLARATION_INVALID, f"invalid fields: {fields}") from None
        async with self._db.unit_of_work() as uow:
            if await uow.repo.get_application(request.application_id) is None:
                now = datetime.now(UTC)
                await uow.repo.save_application(
                    ApplicationRecord(
                        application_id=request.application_id,
                        status=ApplicationStatus.VERIFYING.value,
                        member_count=len(request.declaration.members),
                        declaration=request.declaration,
                        created_at=now,
                        updated_at=now,
                    )
                )
            await uow.commit()
