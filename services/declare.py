"""A declaration becomes a run's input (the portal's `POST /renewals`, `starter.py declare`).

The payment deadline, its margin and the receipt series come from the settings, the same for
every caller, so an application declared from the shell is quoted as one from the portal.
"""

from __future__ import annotations

from datetime import datetime

from temporalio.client import Client

from config import Settings
from domain.application import ApplicationView, RenewalInput
from domain.models import Declaration
from workflows import client as renewals


def renewal_input(
    settings: Settings, application_id: str, declaration: Declaration, submitted_at: datetime
) -> RenewalInput:
    return RenewalInput(
        application_id=application_id,
        declaration=declaration,
        submitted_at=submitted_at,
        payment_deadline_seconds=int(settings.bhyt_payment_deadline.total_seconds()),
        payment_margin_seconds=int(settings.bhyt_payment_margin.total_seconds()),
        receipt_series=settings.bhyt_receipt_series,
    )


async def submit(temporal: Client, settings: Settings, request: RenewalInput) -> ApplicationView:
    """Start the run (or join the one with this id) and wait for steps 1–2: the quote or the rejection."""
    return await renewals.submit(temporal, request, task_queue=settings.temporal_task_queue)
