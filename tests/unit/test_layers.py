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


# The import graph of the project's own modules (issue 23): no circle, and `sys.path` edited only
# by the entry points in scripts/.

SKIPPED_DIRS = {".venv", "venv", ".git", "node_modules", "build", "dist", "var", "wip-branches"}

SYS_PATH_TOLERATED = {"bench"}
"""TODO(issue 23): bench/ still puts the repository on `sys.path` in each script; another helper
of issue 23 makes it a package run as `python -m bench.…`. Once that lands, empty this set."""


def project_modules() -> dict[str, Path]:
    """Every module of the repository by its dotted name (`adapters.db.uow`, `adapters.db`)."""
    modules: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS & set(relative.parts[:-1]) or any(p.endswith(".egg-info") for p in relative.parts):
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts:
            modules[".".join(parts)] = path
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, wherever the import is written: at the top, in a
    function, or under `if TYPE_CHECKING:` (a circle through a type-only import is a circle)."""
    package = name if _is_package(path) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}" if source else alias.name
                if submodule in modules:
                    found.add(submodule)
                elif source in modules:
                    found.add(source)
    found.discard(name)
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(start: str) -> None:
        # iterative depth-first search: the graph is deep enough to hit the recursion limit
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def test_no_import_circle_between_project_modules() -> None:
    modules = project_modules()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    assert import_cycles(graph) == []


def test_the_cycle_finder_sees_a_circle_through_a_type_checking_import(tmp_path: Path) -> None:
    """The check above is only as good as its reading of imports: the circle issue 23 removed
    (`adapters.db.repository` ⇄ `adapters.db.allocate`, one side under TYPE_CHECKING) is found."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "repository.py").write_text("from pkg import allocate as step4\n")
    (tmp_path / "pkg" / "allocate.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.repository import Repository\n"
    )
    modules = {
        "pkg": tmp_path / "pkg" / "__init__.py",
        "pkg.repository": tmp_path / "pkg" / "repository.py",
        "pkg.allocate": tmp_path / "pkg" / "allocate.py",
    }
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    assert import_cycles(graph) == [["pkg.allocate", "pkg.repository"]]


def edits_sys_path(path: Path) -> bool:
    """Whether a file changes `sys.path` (insert, append, assignment, `from sys import path`…)."""

    def is_sys_path(node: ast.AST) -> bool:
        while isinstance(node, ast.Subscript):
            node = node.value
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "path"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        )

    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and is_sys_path(node.func.value):
            return True
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(is_sys_path(t) for t in targets):
                return True
        if isinstance(node, ast.ImportFrom) and node.module == "sys" and any(a.name == "path" for a in node.names):
            return True
    return False


def is_entry_point(path: Path) -> bool:
    """A script run as a program: it has an `if __name__ == "__main__":` block."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__"
        ):
            return True
    return False


def test_sys_path_is_edited_only_by_the_entry_points_in_scripts() -> None:
    offenders = []
    for path in project_modules().values():
        relative = path.relative_to(ROOT)
        if relative.parts[0] in SYS_PATH_TOLERATED or not edits_sys_path(path):
            continue
        if relative.parts[0] == "scripts" and len(relative.parts) == 2 and is_entry_point(path):
            continue
        offenders.append(str(relative))
    assert offenders == []
