"""The embedded Temporal dev server runs with WAL and synchronous=normal (durable across a process
crash, the best throughput; README "Performance"), and the benchmark's no-op floor gets the very
same command line, so its figures compare with the stack's."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.stack import Ports, Stack, temporal_dev_command
from workflows.contract import SEARCH_ATTRIBUTES


def pragmas(cmd: list[str]) -> list[str]:
    return [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--sqlite-pragma"]


def test_the_dev_server_runs_with_wal_and_synchronous_normal(tmp_path: Path) -> None:
    cmd = temporal_dev_command("temporal", Ports.free(), tmp_path / "t.db")
    assert pragmas(cmd) == ["journal_mode=wal", "synchronous=normal"]
    registered = {cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--search-attribute"}
    assert registered == {f"{name}={kind}" for name, kind in SEARCH_ATTRIBUTES.items()}


class Spawned(Exception):
    """Stops the stack right after it built the dev server's command line."""


def test_the_stack_starts_the_dev_server_with_that_command(tmp_path: Path, monkeypatch) -> None:
    stack = Stack.on_free_ports(tmp_path / "var")
    started: list[list[str]] = []

    def spawn(name: str, cmd: list[str]) -> None:
        started.append(cmd)
        raise Spawned

    monkeypatch.setattr(stack, "_spawn", spawn)
    with pytest.raises(Spawned):
        stack._start_temporal()
    assert pragmas(started[0]) == ["journal_mode=wal", "synchronous=normal"]
    assert started[0][started[0].index("--port") + 1] == str(stack.ports.temporal)
