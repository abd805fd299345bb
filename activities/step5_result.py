"""Step 5 — trả kết quả: tell each participant their card goes on (the receipt was issued in step 4)."""

from __future__ import annotations

from temporalio import activity

from activities.inputs import ResultNotices
from adapters.notifications import Notice, Notifier
from domain.messages import RENEWAL_SUCCESS


class ResultActivities:
    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    @activity.defn(name="notify_participants")
    async def notify_participants(self, request: ResultNotices) -> int:
        """One success notice per renewed card, with the prescribed message; returns how many were new."""
        sent = 0
        for allocation in request.allocations:
            created = await self._notifier.record(
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
            )
            sent += int(created)
        return sent
