"""Notices to the declarant and the participants (outbox + optional portal webhook)."""

from __future__ import annotations

from temporalio import activity

from activities.inputs import NoticeRequest
from adapters.notifications import Notice, Notifier


class NotificationActivities:
    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    @activity.defn(name="send_notice")
    async def send_notice(self, request: NoticeRequest) -> bool:
        """Writes the outbox only (one short database write); the worker's sweeper delivers.
        Idempotent per (application, kind, recipient): a retry never records twice."""
        return await self._notifier.record(
            Notice(
                application_id=request.application_id,
                kind=request.kind,
                recipient=request.recipient,
                message=request.message,
                payload=dict(request.payload),
            )
        )
