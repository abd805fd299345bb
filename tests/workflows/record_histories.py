"""Record the histories the replay test checks: `python -m tests.workflows.record_histories`.

Run it only when a change to the workflow is *meant* to be incompatible (and then version
the workflow instead, if runs may be open in production). The recorded files are committed.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.temporal_support import CONVERTER, binary, register_search_attributes
from tests.workflows.fakes import FakeBackend
from tests.workflows.test_renewal_workflow import DEADLINE, Run, payment_for, request
from workflows import client as renewals

HISTORIES = Path(__file__).parent / "histories"


async def record() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER, test_server_existing_path=binary("temporal-test-server")
    )
    await register_search_attributes(env.client)
    try:
        scenarios = {}
        async with Run(env, FakeBackend(paid_positions_before=1)) as run:
            req = request()
            view = await run.submit(req)
            await renewals.signal_payment(env.client, req.application_id, payment_for(view, amount=1000))
            await renewals.signal_payment(
                env.client, req.application_id, payment_for(view, transaction_no="2")
            )
            await renewals.signal_payment(
                env.client, req.application_id, payment_for(view, transaction_no="2")
            )
            await run.result(req)
            scenarios["review_then_completed"] = req
        async with Run(env, FakeBackend()) as run:
            req = request()
            await run.submit(req)
            await env.sleep(DEADLINE + timedelta(minutes=1))
            await run.result(req)
            scenarios["expired"] = req
        async with Run(env, FakeBackend(household_code=None)) as run:
            req = request()
            await run.submit(req)
            await run.result(req)
            scenarios["rejected"] = req
        for name, req in scenarios.items():
            history = await renewals.handle(env.client, req.application_id).fetch_history()
            (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
            print(f"recorded {name}: {len(history.events)} events")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record())
