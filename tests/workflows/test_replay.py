"""Determinism guard: recorded histories must replay on the current workflow code.

A change that reorders, adds or removes commands on an existing path makes this fail. Before the
first release the histories are re-recorded with the change; after it, such a change ships as a
new worker version (Worker Versioning) while open runs finish on the old one — see README,
"Changing the workflow".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.support.temporal import CONVERTER
from workflows.renewal import HouseholdRenewal

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_committed() -> None:
    from tests.workflows.record_histories import SCENARIOS

    assert {p.stem for p in HISTORIES} >= set(SCENARIOS)


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))  # noqa: ASYNC240 - small file
    replayer = Replayer(workflows=[HouseholdRenewal], data_converter=CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
