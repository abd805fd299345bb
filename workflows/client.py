"""How callers (the API, starter.py, tests) talk to `HouseholdRenewal` runs.

Kept in one place so the HTTP API and the shell tools start, follow and signal applications
the same way: update-with-start for the quote, the `status` query, the two signals.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from domain.application import ApplicationView, RenewalInput
from domain.models import ApplicationStatus, PaymentReceived
from domain.payments import ReviewDecision
from workflows.contract import (
    QUERY_STATUS,
    SA_APPLICATION_ID,
    SA_RENEWAL_STATUS,
    SIGNAL_CANCEL,
    SIGNAL_PAYMENT_RECEIVED,
    TASK_QUEUE,
    UPDATE_QUOTE,
    UPDATE_RESOLVE_REVIEW,
    WORKFLOW_TYPE,
    workflow_id,
)


async def submit(client: Client, request: RenewalInput, *, task_queue: str = TASK_QUEUE) -> ApplicationView:
    """Start the run (or join the one already running for this id) and wait for steps 1–2.

    A second submit with the same application id never starts a second run: while the run is
    open it attaches to it, and once it is closed the id is not reused and the closed run's
    state is returned.
    """
    start: WithStartWorkflowOperation[Any, ApplicationView] = WithStartWorkflowOperation(
        WORKFLOW_TYPE,
        request,
        id=workflow_id(request.application_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        result_type=ApplicationView,
        static_summary=f"BHYT household renewal {request.application_id}",
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(SA_APPLICATION_ID, request.application_id),
                SearchAttributePair(SA_RENEWAL_STATUS, ApplicationStatus.VERIFYING.value),
            ]
        ),
    )
    try:
        return await client.execute_update_with_start_workflow(
            UPDATE_QUOTE, start_workflow_operation=start, result_type=ApplicationView
        )
    except Exception:
        # the run already closed (e.g. a retry after a rejection): answer with its final state
        try:
            await start.workflow_handle()  # collect the start's own failure, so it is not reported as lost
        except Exception:  # noqa: BLE001 - the same failure as the one being handled
            pass
        view = await status(client, request.application_id)
        if view is None:
            raise
        return view


def handle(client: Client, application_id: str) -> WorkflowHandle:
    return client.get_workflow_handle(workflow_id(application_id), result_type=ApplicationView)


async def status(client: Client, application_id: str) -> ApplicationView | None:
    """The application as it stands, or None when no run has this id."""
    from temporalio.service import RPCError, RPCStatusCode

    try:
        return await handle(client, application_id).query(QUERY_STATUS, result_type=ApplicationView)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def signal_payment(client: Client, application_id: str, payment: PaymentReceived) -> None:
    await handle(client, application_id).signal(SIGNAL_PAYMENT_RECEIVED, payment)


async def signal_cancel(client: Client, application_id: str) -> None:
    await handle(client, application_id).signal(SIGNAL_CANCEL)


async def resolve_review(client: Client, application_id: str, decision: ReviewDecision) -> ApplicationView:
    """The operator's decision on a payment review; raises WorkflowUpdateFailedError naming the
    field when the validator refuses it (wrong status, unknown transaction, wrong amount)."""
    return await handle(client, application_id).execute_update(
        UPDATE_RESOLVE_REVIEW, decision, result_type=ApplicationView
    )
