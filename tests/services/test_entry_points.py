"""The use-case layer (issue 23): what the API and the shell both do is one use case they both
call; entry points hold no SQL; use cases know nothing of HTTP or of the command line.

These read the import graph, so a use case written again in an entry point shows up here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API = sorted((ROOT / "api").glob("*.py"))
STARTER = ROOT / "starter.py"


def modules_imported(path: Path) -> set[str]:
    """Every module `path` imports, and `package.name` for each `from package import name`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize(
    "use_case",
    [
        "services.applications",
        "services.cancel",
        "services.review",
        "services.refund_decisions",
        "services.stats",
        "services.declare",
    ],
)
def test_the_api_and_the_shell_call_the_same_use_case(use_case: str) -> None:
    api = set().union(*(modules_imported(p) for p in API))
    assert use_case in api, f"api/ does not call {use_case}"
    assert use_case in modules_imported(STARTER), f"starter.py does not call {use_case}"


def test_entry_points_hold_no_sql() -> None:
    for path in [*API, STARTER]:
        imported = modules_imported(path)
        assert not {"sqlalchemy.select", "sqlalchemy.text", "adapters.db.orm"} & imported, path.name


def test_use_cases_know_nothing_of_http_or_the_command_line() -> None:
    for path in sorted((ROOT / "services").glob("*.py")):
        roots = {name.split(".")[0] for name in modules_imported(path)}
        assert not {"fastapi", "starlette", "argparse", "api", "starter"} & roots, path.name
