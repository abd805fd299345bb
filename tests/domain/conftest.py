"""The closing line of the ledger's model-based test (issue 19): how many examples and steps ran."""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    module = sys.modules.get("tests.domain.test_ledger_stateful")
    stats = getattr(module, "STATS", None)
    if stats and stats["examples"]:
        terminalreporter.write_line(
            f"ledger model-based test: {stats['examples']} examples, {stats['steps']} steps "
            "(invariants checked after every step)"
        )
