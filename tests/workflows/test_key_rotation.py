"""Rotating the payload key while a run waits for its payment: the run completes.

Before the rotation the ring holds only the old key; the run is declared and quoted, its
input and quote sealed with it. The worker is then replaced by one whose ring holds both keys
with the new one current, the payment arrives sealed with the new key, and the run completes:
the new worker read the old payloads and wrote new ones with the new key.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.temporal_payloads import EncryptionCodec, UnknownKeyError, parse_key
from domain.models import ApplicationStatus
from tests.support.history import payloads, raw_history
from tests.support.temporal import CONVERTER, time_skipping_env
from tests.workflows.fakes import FakeBackend
from tests.workflows.test_renewal_workflow import payment_for, request
from workflows import client as renewals
from workflows.contract import workflow_id
from workflows.renewal import HouseholdRenewal

OLD = parse_key(base64.urlsafe_b64encode(b"o" * 32).decode())
NEW = parse_key(base64.urlsafe_b64encode(b"n" * 32).decode())


def converter(keys: dict[str, bytes], current: str) -> DataConverter:
    return dataclasses.replace(CONVERTER, payload_codec=EncryptionCodec(keys, current))


def client_with(base: Client, data_converter: DataConverter) -> Client:
    return Client(**{**base.config(), "data_converter": data_converter})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment


async def key_ids_in_history(client: Client, application_id: str) -> set[bytes]:
    history = await raw_history(client, workflow_id(application_id))
    return {p.metadata.get("encryption-key-id", b"(clear)") for p in payloads(history)}


async def test_rotation_while_a_run_waits_for_payment(env: WorkflowEnvironment) -> None:
    before = client_with(env.client, converter({"k-old": OLD}, "k-old"))
    after = client_with(env.client, converter({"k-old": OLD, "k-new": NEW}, "k-new"))
    backend = FakeBackend()
    req = request()
    queue = f"tq-{uuid.uuid4()}"

    # no sticky cache: the test server would keep the run's next task for this worker once it is gone
    async with Worker(
        before,
        task_queue=queue,
        workflows=[HouseholdRenewal],
        activities=backend.activities(),
        max_cached_workflows=0,
    ):
        view = await renewals.submit(before, req, task_queue=queue)
    assert view.status == ApplicationStatus.AWAITING_PAYMENT
    assert await key_ids_in_history(env.client, req.application_id) == {b"k-old"}

    # rotated: the next worker and clients hold both keys, the new one current
    async with Worker(after, task_queue=queue, workflows=[HouseholdRenewal], activities=backend.activities()):
        await renewals.signal_payment(after, req.application_id, payment_for(view))
        handle = renewals.handle(after, req.application_id)
        for _ in range(40):
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                break
            # a task handed to the stopped worker's last poll is lost: skip its 10 s timeout
            await env.sleep(timedelta(seconds=11))
            await asyncio.sleep(0.25)
        final = await handle.result()

    assert final.status == ApplicationStatus.COMPLETED
    assert backend.calls["allocate"] == 1
    assert await key_ids_in_history(env.client, req.application_id) == {b"k-old", b"k-new"}
    # a process left with the old key alone cannot read what was written after the rotation
    with pytest.raises(UnknownKeyError):
        await renewals.handle(before, req.application_id).result()
