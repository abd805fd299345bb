"""The declarant's cancel of an application not yet paid (the portal's route, `starter.py cancel`).

Refused, with the reason, once money was accepted or the application closed; a cancel of a
cancelled application is answered with it as it stands (a retry is harmless). During
`verifying` the cancel goes on record before the signal: step 3 reads it, inside the workflow
task where the signal cannot reach the run yet (issue 12: steps 1–3 in one workflow task).
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from adapters.db import Database
from domain.application import ApplicationView
from domain.models import ApplicationStatus
from services.applications import find
from services.errors import Refused
from workflows import client as renewals

CLOSING_CHECKS = 50
CLOSING_CHECK_SECONDS = 0.1
"""The run closes within a few workflow tasks: asked this often before answering "still closing"."""


async def cancel(db: Database, temporal: Client, application_id: str) -> ApplicationView:
    """The application after the cancel: `cancelled`, or still `verifying`/`awaiting_payment`
    while its run is closing. Raises `NoSuchApplication`, or `Refused` naming why it cannot."""
    view = await find(temporal, application_id)
    if view.status == ApplicationStatus.CANCELLED:
        return view
    if not view.status.is_cancellable:
        reason = (
            "already paid" if view.paid_at or view.status.is_paid else f"application is {view.status.value}"
        )
        raise Refused(f"cannot cancel: {reason}")
    if view.status == ApplicationStatus.VERIFYING:
        async with db.unit_of_work() as uow:
            await uow.repo.request_cancel(application_id)
            await uow.commit()
    await renewals.signal_cancel(temporal, application_id)
    for _ in range(CLOSING_CHECKS):
        view = await find(temporal, application_id)
        if not view.status.is_cancellable:
            break
        await asyncio.sleep(CLOSING_CHECK_SECONDS)
    if view.status != ApplicationStatus.CANCELLED and not view.status.is_cancellable:
        raise Refused(f"cannot cancel: application is {view.status.value}")
    return view
