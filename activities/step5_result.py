"""Step 5 — trả kết quả: tell each participant their card goes on (the receipt was issued in step 4)."""

from __future__ import annotations

from temporalio import activity

from activities.inputs import ResultNotices
from adapters.notifications import Notice, Notifier, write_notice
from domain.messages import RENEWAL_SUCCESS
from domain.models import ApplicationStatus


def renewed_notices(request: ResultNotices) -> list[Notice]:
    """One success notice per renewed card, with the prescribed message."""
    return [
        Notice(
            application_id=request.application_id,
            kind="renewed",
            recipient=allocation.card_number,
            message=RENEWAL_SUCCESS,
            payload={
                "receipt": request.receipt_label,
                "valid_from": allocation.valid_from.isoformat(),
                "valid_to": allocation.valid_to.isoformat(),
            },
        )
        for allocation in request.allocations
    ]


class ResultActivities:
    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    @activity.defn(name="complete_application")
    async def complete_application(self, request: ResultNotices) -> int:
        """Step 5 and the close in one transaction (issue 12: one activity where there were two):
        the participants' notices into the outbox, the application completed in the records and
        its cards and household freed. Idempotent: notices keyed per (application, kind,
        recipient), the status and the releases are the same on a retry. Returns the new notices."""
        async with self._notifier.db.unit_of_work() as uow:
            sent = 0
            for notice in renewed_notices(request):
                created, _status = await write_notice(uow.repo, notice)
                sent += int(created)
            await uow.repo.close_application(request.application_id, ApplicationStatus.COMPLETED.value)
            await uow.commit()
        return sent
