"""An operator's decision on a payment review (`POST …/review`, `starter.py review ID`).

The decision is checked against the payments as the records show them before the run is asked
(`domain.review.refusal` names the field and why), the run's `resolve_review` update acts or
refuses, and only a decision the run took goes to the operators' audit.
"""

from __future__ import annotations

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from adapters.db import Database
from domain.application import ApplicationView
from domain.payments import ReviewDecision
from domain.review import refusal
from services.applications import find, with_payments
from services.audit import record_operator_action
from services.errors import Refused
from workflows import client as renewals


async def resolve_review(
    db: Database, temporal: Client, application_id: str, decision: ReviewDecision
) -> ApplicationView:
    """The application once the run acted, with its payments. Raises `NoSuchApplication`, or
    `Refused` with the reason (the field that does not apply, or the run not open)."""
    view = await with_payments(db, await find(temporal, application_id))
    refused = refusal(decision, view.payments)
    if refused:
        raise Refused(refused)
    try:
        view = await renewals.resolve_review(temporal, application_id, decision)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise Refused(str(getattr(cause, "message", cause))) from None
    except RPCError as err:
        raise Refused(f"application not open: {err.message}") from None
    await record_operator_action(
        db,
        operator=decision.operator,
        application_id=application_id,
        action=decision.action,
        transaction=decision.transaction,
        override=decision.override,
        reason=decision.reason,
    )
    return await with_payments(db, view)

