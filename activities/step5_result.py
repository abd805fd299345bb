"""Step 5 — trả kết quả: tell each participant their card goes on (the receipt was issued in step 4)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from temporalio import activity

from activities.inputs import ResultNotices
from adapters.notifications import Notice, Notifier, write_notice
from domain.application import vietnam_date
from domain.messages import renewal_success
from domain.models import ApplicationStatus
from domain.notices import usable_from


def renewed_notices(request: ResultNotices, notice_date: date | None = None) -> list[Notice]:
    """One success notice per renewed card, with the prescribed message and, when the card can
    only be used later than the notice, the date it works from (issue 22 finding 2)."""
    today = notice_date or vietnam_date(datetime.now(UTC))
    notices = []
    for allocation in request.allocations:
        usable = usable_from(allocation.valid_from, allocation.old_valid_to, today)
        notices.append(
            Notice(
                application_id=request.application_id,
                kind="renewed",
                recipient=allocation.card_number,
                message=renewal_success(usable),
                payload={
                    "receipt": request.receipt_label,
                    "valid_from": allocation.valid_from.isoformat(),
                    "valid_to": allocation.valid_to.isoformat(),
                    "usable_from": None if usable is None else usable.isoformat(),
                },
            )
        )
    return notices


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
