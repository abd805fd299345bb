"""Closing an application at the end of any path (rejected, expired, cancelled): its final
status in the BHXH records, its cards and household free for a later application."""

from __future__ import annotations

from temporalio import activity

from activities.inputs import CloseApplication
from adapters.db import Database


class ClosingActivities:
    def __init__(self, db: Database) -> None:
        self._db = db

    @activity.defn(name="close_application")
    async def close_application(self, request: CloseApplication) -> None:
        """Final status in the BHXH records, and the cards free for a later application."""
        async with self._db.unit_of_work() as uow:
            await uow.repo.close_application(request.application_id, request.status.value)
            await uow.commit()
