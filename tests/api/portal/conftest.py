from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.portal import Portal, portal
from tests.support.temporal import time_skipping_env


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment


@pytest.fixture
async def api(temporal_env: WorkflowEnvironment, tmp_path) -> AsyncIterator[Portal]:
    async with portal(temporal_env, tmp_path) as running:
        yield running


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    from tests.api.portal.test_openapi_fuzz import FUZZ_SUMMARY

    for line in FUZZ_SUMMARY:
        terminalreporter.write_line(line)
