"""A database error quoting a personal number reaches neither the history nor the logs in clear.

The activity makes SQLite refuse a duplicate personal number: SQLAlchemy's IntegrityError
would carry the row's values (its SQL parameters) in its message. With parameters hidden,
the message withheld at the activity boundary and failure attributes encoded, the raw history
holds no trace of the number or the name, and the worker's log lines neither.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from sqlalchemy import text

    from activities.safe_errors import SafeErrorsInterceptor
    from adapters.db.engine import make_engine
    from tests.support.history import payloads, raw_history
    from tests.support.temporal import CONVERTER, binary

PERSONAL_ID = "001080012345"
NAME = "Nguyễn Văn An"


@activity.defn(name="insert_twice")
async def insert_twice(db_file: str) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{db_file}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS people (personal_id TEXT UNIQUE, name TEXT)"))
            for _ in range(2):
                await conn.execute(
                    text("INSERT INTO people VALUES (:pid, :name)"), {"pid": PERSONAL_ID, "name": NAME}
                )
    finally:
        await engine.dispose()


@workflow.defn(name="SafeErrorsProbe", sandboxed=False)
class SafeErrorsProbe:
    @workflow.run
    async def run(self, db_file: str) -> None:
        await workflow.execute_activity(
            insert_twice,
            db_file,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=2, initial_interval=timedelta(milliseconds=10)),
        )


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER, test_server_existing_path=binary("temporal-test-server")
    )
    yield environment
    await environment.shutdown()


async def test_database_error_leaves_no_personal_data(
    env: WorkflowEnvironment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # as the worker runs (DEBUG of aiosqlite echoes every parameter)
    queue = f"tq-{uuid.uuid4()}"
    workflow_id = f"probe-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[SafeErrorsProbe],
        activities=[insert_twice],
        interceptors=[SafeErrorsInterceptor()],
    ):
        with pytest.raises(WorkflowFailureError) as failed:
            await env.client.execute_workflow(
                SafeErrorsProbe.run, str(tmp_path / "people.db"), id=workflow_id, task_queue=queue
            )

    # what an operator reads through the codec: the type and the activity, no values
    assert isinstance(failed.value.cause, ActivityError)
    cause = failed.value.cause.cause
    assert isinstance(cause, ApplicationError) and cause.type == "IntegrityError"
    assert "message withheld" in cause.message and PERSONAL_ID not in cause.message

    history = await raw_history(env.client, workflow_id)
    stored = history.SerializeToString()
    assert b"message withheld" not in stored, "failure messages are encoded, not in clear"
    assert PERSONAL_ID.encode() not in stored and NAME.encode() not in stored
    assert all(p.metadata.get("encoding") == b"binary/encrypted" for p in payloads(history))

    logged = "\n".join(r.getMessage() + (str(r.exc_info[1]) if r.exc_info else "") for r in caplog.records)
    assert "IntegrityError" in logged  # the failure is logged ...
    assert PERSONAL_ID not in logged and NAME not in logged  # ... without the person
