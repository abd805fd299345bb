"""Step 1 — kê khai: record the declaration; and, at the end of any path, close the application."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities.errors import DECLARATION_INVALID, business_error
from activities.inputs import CloseApplication, EnterReview
from adapters.db import ApplicationRecord, Database
from adapters.notifications import Notice, write_notice
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

    @activity.defn(name="close_application")
    async def close_application(self, request: CloseApplication) -> None:
        """Final status in the BHXH records, and the cards free for a later application."""
        async with self._db.unit_of_work() as uow:
            await uow.repo.close_application(request.application_id, request.status.value)
            await uow.commit()

    @activity.defn(name="enter_review")
    async def enter_review(self, request: EnterReview) -> None:
        """Payment review in the BHXH records and its notice to the declarant in the outbox, in one
        transaction: no activity (no round trip) only to write a status. Idempotent: the same
        status, and the notice keyed as `send_notice` keys it (a retry records nothing twice)."""
        notice = Notice(request.application_id, "payment_review", "declarant", request.notice)
        async with self._db.unit_of_work() as uow:
            await uow.repo.set_application_status(
                request.application_id, ApplicationStatus.PAYMENT_REVIEW.value
            )
            await write_notice(uow.repo, notice)
            await uow.commit()
