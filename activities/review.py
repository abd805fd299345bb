"""Payment review: a payment that does not match its application waits for an operator; its
status is recorded and the declarant told, in one transaction."""

from __future__ import annotations

from temporalio import activity

from activities.inputs import EnterReview
from adapters.db import Database
from adapters.notifications import Notice, write_notice
from domain.models import ApplicationStatus


class ReviewActivities:
    def __init__(self, db: Database) -> None:
        self._db = db

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
