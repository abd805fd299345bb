"""Record the histories the replay test checks: `python -m tests.workflows.record_histories`.

One history per path of the procedure and per race of issue 19 (README, "Changing the workflow"),
all on the one code path. Until the first release they are re-recorded when the workflow changes
(`--all`); after it, a committed history is never overwritten: an incompatible change ships as a
new worker version (Worker Versioning), and the files keep proving that open runs still replay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.application import RenewalInput
from domain.payments import ReviewDecision
from tests.support.temporal import CONVERTER, binary, register_search_attributes
from tests.workflows.fakes import FakeBackend
from tests.workflows.test_races import RACES
from tests.workflows.test_renewal_workflow import DEADLINE, Run, payment_for, request
from workflows import client as renewals

HISTORIES = Path(__file__).parent / "histories"

Scenario = Callable[[WorkflowEnvironment], Awaitable[RenewalInput]]


async def _entered(backend: FakeBackend, name: str) -> None:
    await asyncio.wait_for(backend.entered.setdefault(name, asyncio.Event()).wait(), 60)


async def review_then_completed(env: WorkflowEnvironment) -> RenewalInput:
    """Wrong amount (review), then the right transfer: completed, the first one refunded."""
    async with Run(env, FakeBackend(paid_positions_before=1)) as run:
        req = request()
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, amount=1000))
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, transaction_no="2"))
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, transaction_no="2"))
        await run.result(req)
        return req


async def expired(env: WorkflowEnvironment) -> RenewalInput:
    async with Run(env, FakeBackend()) as run:
        req = request()
        await run.submit(req)
        await env.sleep(DEADLINE + timedelta(minutes=1))
        await run.result(req)
        return req


async def expiry_with_late_payment(env: WorkflowEnvironment) -> RenewalInput:
    """At the deadline querydr finds the payment whose IPN is late: completed."""
    backend = FakeBackend()
    async with Run(env, backend) as run:
        req = request()
        view = await run.submit(req)
        backend.bank_paid = [payment_for(view)]
        await env.sleep(DEADLINE + timedelta(minutes=1))
        await run.result(req)
        return req


async def payment_during_close(env: WorkflowEnvironment) -> RenewalInput:
    backend = FakeBackend(gate={"close_application": asyncio.Event()})
    async with Run(env, backend) as run:
        req = request()
        view = await run.submit(req)
        skip = asyncio.create_task(env.sleep(DEADLINE + timedelta(minutes=1)))
        await _entered(backend, "close_application")
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        backend.gate["close_application"].set()
        await skip
        await run.result(req)
        return req


async def rejected(env: WorkflowEnvironment) -> RenewalInput:
    async with Run(env, FakeBackend(household_code=None)) as run:
        req = request()
        await run.submit(req)
        await run.result(req)
        return req


async def cancel_verifying(env: WorkflowEnvironment, *, on_record: bool = False) -> RenewalInput:
    backend = FakeBackend(gate={"verify_residence": asyncio.Event()})
    async with Run(env, backend) as run:
        req = request()
        submitted = asyncio.create_task(run.submit(req))
        await _entered(backend, "verify_residence")
        if on_record:  # as the API cancels since issue 12 (LEAN)
            backend.cancel_requests.add(req.application_id)
        await renewals.signal_cancel(env.client, req.application_id)
        await asyncio.sleep(0.5)
        backend.gate["verify_residence"].set()
        await submitted
        await run.result(req)
        return req


async def cancel_awaiting_payment(env: WorkflowEnvironment) -> RenewalInput:
    async with Run(env, FakeBackend()) as run:
        req = request()
        await run.submit(req)
        await renewals.signal_cancel(env.client, req.application_id)
        await run.result(req)
        return req


async def cancel_in_review_then_refund(env: WorkflowEnvironment) -> RenewalInput:
    """A cancel in review is ignored; the operator's refund_and_cancel decides."""
    async with Run(env, FakeBackend()) as run:
        req = request()
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, amount=1000))
        await env.sleep(timedelta(minutes=5))
        await renewals.signal_cancel(env.client, req.application_id)
        await env.sleep(timedelta(minutes=5))
        await renewals.resolve_review(
            env.client, req.application_id, ReviewDecision(action="refund_and_cancel")
        )
        await run.result(req)
        return req


async def review_accept(env: WorkflowEnvironment) -> RenewalInput:
    async with Run(env, FakeBackend(reconcile_reason="bank_transaction_mismatch")) as run:
        req = request()
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await env.sleep(timedelta(minutes=5))
        await renewals.resolve_review(
            env.client, req.application_id, ReviewDecision(action="accept", transaction="14000001")
        )
        await run.result(req)
        return req


async def refused_then_refunded(env: WorkflowEnvironment, backend: FakeBackend) -> RenewalInput:
    """Paid, step 4 refused, five minutes in review, then refund and cancel (overtaken when the
    allocation turns out committed)."""
    async with Run(env, backend) as run:
        req = request()
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await env.sleep(timedelta(minutes=5))
        try:
            await renewals.resolve_review(
                env.client, req.application_id, ReviewDecision(action="refund_and_cancel")
            )
        except WorkflowUpdateFailedError:
            assert backend.allocation_committed
        await run.result(req)
        return req


async def refused_allocation(env: WorkflowEnvironment) -> RenewalInput:
    """Step 4 refused; the re-read finds nothing committed; refund and cancel."""
    return await refused_then_refunded(env, FakeBackend(allocation_refused=True))


async def refused_allocation_committed(env: WorkflowEnvironment) -> RenewalInput:
    return await refused_then_refunded(env, FakeBackend(allocation_refused=True, allocation_committed=True))


async def double_payment(env: WorkflowEnvironment) -> RenewalInput:
    async with Run(env, FakeBackend()) as run:
        req = request()
        view = await run.submit(req)
        await renewals.signal_payment(env.client, req.application_id, payment_for(view))
        await renewals.signal_payment(env.client, req.application_id, payment_for(view, transaction_no="2"))
        await run.result(req)
        return req


SCENARIOS: dict[str, Scenario] = {
    "review_then_completed": review_then_completed,
    "expired": expired,
    "expiry_with_late_payment": expiry_with_late_payment,
    "payment_during_close": payment_during_close,
    "rejected": rejected,
    "cancel_verifying_on_record": lambda env: cancel_verifying(env, on_record=True),
    "cancel_verifying_signal_only": cancel_verifying,
    "cancel_awaiting_payment": cancel_awaiting_payment,
    "cancel_in_review_then_refund": cancel_in_review_then_refund,
    "review_accept": review_accept,
    "refused_allocation": refused_allocation,
    "refused_allocation_committed": refused_allocation_committed,
    "double_payment": double_payment,
    # issue 19: an event at each await point of the run
    **RACES,
}


async def record(names: list[str]) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER, test_server_existing_path=binary("temporal-test-server")
    )
    await register_search_attributes(env.client)
    try:
        for name in names:
            req = await SCENARIOS[name](env)
            history = await renewals.handle(env.client, req.application_id).fetch_history()
            (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
            print(f"recorded {name}: {len(history.events)} events")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    # only the paths without a committed history, unless named (or --all): after the first
    # release a committed history is the proof that open runs still replay (never overwritten)
    import sys

    wanted = [a for a in sys.argv[1:] if a != "--all"]
    if "--all" in sys.argv:
        wanted = list(SCENARIOS)
    elif not wanted:
        wanted = [n for n in SCENARIOS if not (HISTORIES / f"{n}.json").exists()]
    asyncio.run(record(wanted))
