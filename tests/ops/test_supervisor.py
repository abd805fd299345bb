"""The one process supervisor: what `make run`, the test helpers and the benchmarks start children with."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from scripts import stack, supervisor
from tests.support import processes

ROOT = Path(__file__).resolve().parents[2]


def test_start_wait_and_stop_a_child(tmp_path: Path) -> None:
    port = supervisor.free_port()
    child = supervisor.spawn(
        "http", [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        log_path=tmp_path / "http.log", cwd=tmp_path,
    )  # fmt: skip
    try:
        supervisor.wait_until(
            lambda: supervisor.http_ok(f"http://127.0.0.1:{port}/"),
            timeout=20,
            what="serving",
            process=child.popen,
        )
        assert supervisor.port_in_use(port)
    finally:
        child.stop(timeout=5)
    assert not child.running and child.log_file.closed
    assert not supervisor.port_in_use(port)


def test_a_child_that_exits_is_not_waited_for(tmp_path: Path) -> None:
    child = supervisor.spawn(
        "fails", [sys.executable, "-c", "raise SystemExit(3)"], log_path=tmp_path / "f.log"
    )
    with pytest.raises(supervisor.NotReady, match="exited with code 3"):
        supervisor.wait_until(lambda: False, timeout=20, what="ready", process=child.popen)
    child.stop()


def test_free_ports_are_distinct() -> None:
    ports = supervisor.free_ports(20)
    assert len(set(ports)) == 20


def test_the_run_command_and_the_tests_share_it() -> None:
    assert stack.free_ports is supervisor.free_ports
    assert processes.free_port is supervisor.free_port
    assert stack.tail is supervisor.tail


def test_the_healthcheck_uses_public_functions_only() -> None:
    tree = ast.parse((ROOT / "scripts" / "healthcheck.py").read_text())
    imported = [
        alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    ]
    assert imported and not [name for name in imported if name.startswith("_")]
