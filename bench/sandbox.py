"""What the workflow sandbox costs the worker per run: recorded histories replayed many times,
CPU seconds per replay, with the default sandbox and with every module passed through.

A replay is the workflow side of a run without the server: a fresh sandbox (the workflow module
executed again, its imports resolved through the sandbox importer), then the workflow code over
the history's events. The worker pays it once per run (and again after each cache eviction).
A benchmark: prints figures, asserts nothing.

    .venv/bin/python -m bench.sandbox [N]
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from adapters.temporal_payloads import data_converter
from config import Settings
from workflows.renewal import HouseholdRenewal

ROOT = Path(__file__).resolve().parent.parent

HISTORIES = sorted((ROOT / "tests" / "workflows" / "histories").glob("*.json"))


async def per_replay(runner: SandboxedWorkflowRunner | None, n: int) -> dict[str, float]:
    converter = data_converter(Settings(_env_file=None))  # type: ignore[call-arg]
    kwargs = {"workflow_runner": runner} if runner is not None else {}
    replayer = Replayer(workflows=[HouseholdRenewal], data_converter=converter, **kwargs)
    out = {}
    for path in HISTORIES:
        history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
        await replayer.replay_workflow(history)  # warm
        t0 = time.process_time()
        for _ in range(n):
            await replayer.replay_workflow(history, raise_on_replay_failure=True)
        out[path.stem] = (time.process_time() - t0) / n * 1000
    return out


async def main(n: int) -> None:
    modes = {
        "default sandbox": None,
        "all modules passed through": SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
        ),
    }
    print(f"CPU ms per replay (mean of {n}; process time, all threads)")
    for label, runner in modes.items():
        figures = await per_replay(runner, n)
        print(f"  {label:<28} " + "  ".join(f"{k} {v:6.1f}" for k, v in figures.items()))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
