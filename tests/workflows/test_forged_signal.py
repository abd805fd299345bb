"""Issue 21's left-over: a forged plaintext signal must not take a run down.

In production the codec believes only payloads sealed with the key ring. Whoever reaches
Temporal's frontend can still signal a run without it. Before, the codec raised on the plaintext
payload: the workflow task failed on every retry, the run was stuck until an operator terminated
it, and the portal's GET waited for the query's timeout (a 500). Now the forged signal is dropped
and the run goes on: it answers queries, and the real payment completes it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.temporal_payloads import data_converter
from config import Settings
from domain.models import ApplicationStatus
from tests.workflows.fakes import FakeBackend
from tests.workflows.test_renewal_workflow import env, payment_for, request
from workflows import client as renewals
from workflows.contract import SIGNAL_PAYMENT_RECEIVED
from workflows.renewal import HouseholdRenewal

__all__ = ["env"]

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")
PRODUCTION = Settings(
    _env_file=None,
    bhyt_env="production",
    bhyt_payload_keys=json.dumps([{"id": "k1", "key": KEY}]),
    bhyt_payload_key_id="k1",
)  # type: ignore[call-arg]


async def test_a_forged_plaintext_payment_is_dropped_and_the_run_goes_on(env: WorkflowEnvironment) -> None:
    ours = Client(**{**env.client.config(), "data_converter": data_converter(PRODUCTION)})
    backend = FakeBackend()
    req = request()
    worker = Worker(
        ours, task_queue=f"tq-{uuid.uuid4()}", workflows=[HouseholdRenewal], activities=backend.activities()
    )
    async with worker:
        view = await renewals.submit(ours, req, task_queue=worker.task_queue)
        assert view.status == ApplicationStatus.AWAITING_PAYMENT
        forged = payment_for(view, transaction_no="99999999")
        outsider = Client(**{**env.client.config(), "data_converter": pydantic_data_converter})
        await renewals.handle(outsider, req.application_id).signal(SIGNAL_PAYMENT_RECEIVED, forged)
        after = await asyncio.wait_for(renewals.status(ours, req.application_id), 15)
        assert after is not None and after.status == ApplicationStatus.AWAITING_PAYMENT
        assert after.payments == [] and backend.calls["reconcile_payment"] == 0
        await renewals.signal_payment(ours, req.application_id, payment_for(view))
        final = await asyncio.wait_for(renewals.handle(ours, req.application_id).result(), 30)
    assert final.status == ApplicationStatus.COMPLETED
    assert [p.transaction for p in final.payments] == ["14000001"]
    assert backend.calls["allocate"] == 1
