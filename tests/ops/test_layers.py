"""Where the rules live (issue 14): the database adapter stores, the domain decides.

These read the import graph, so a rule copied back into an adapter shows up here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_names(path: Path) -> set[str]:
    """`module.name` for every `from module import name`, and `module` for every `import module`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def attribute_chains(path: Path) -> set[str]:
    chains = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            chains.add(f"{node.value.id}.{node.attr}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            chains.add(f"*.{node.attr}")
    return chains


def test_the_database_adapter_takes_step_4_rules_from_the_domain() -> None:
    rules = {"domain.validity.renewal_period", "domain.words.amount_in_words"}
    for path in sorted((ROOT / "adapters" / "db").glob("*.py")):
        assert not rules & imported_names(path), f"{path.name} applies a domain rule itself"
    allocate = imported_names(ROOT / "adapters" / "db" / "allocate.py")
    assert {"domain.allocation.plan_allocation", "domain.allocation.payment_mismatch"} <= allocate


def test_every_payment_match_asks_the_one_rule() -> None:
    for module in (
        "api/ipn.py",
        "domain/ledger.py",
        "activities/step4_allocation.py",
        "adapters/db/allocate.py",
    ):
        assert "domain.allocation.payment_mismatch" in imported_names(ROOT / module), module


def test_notifications_write_through_the_repository() -> None:
    used = attribute_chains(ROOT / "adapters" / "notifications.py")
    assert "uow.session" not in used
    assert "*._insert" not in used
    assert not any(
        n.startswith("adapters.db.orm") for n in imported_names(ROOT / "adapters" / "notifications.py")
    )


def test_the_workflow_fakes_allocate_with_the_production_rules() -> None:
    names = imported_names(ROOT / "tests" / "workflows" / "fakes.py")
    assert {"domain.allocation.plan_allocation", "domain.allocation.issue_receipt"} <= names
    assert "hashlib" not in names


def test_worker_api_and_starter_connect_to_temporal_the_same_way() -> None:
    for module in ("worker.py", "api/app.py", "starter.py"):
        path = ROOT / module
        assert "adapters.temporal_client.connect" in imported_names(path), module
        assert "Client.connect" not in attribute_chains(path), module


# No import circle, `sys.path` edited only by scripts' entry points, no module at the tests/ root:
# scripts/check_layers.py (`python -m scripts.check_layers`), tested in tests/ops/test_check_layers.py.
