"""`python -m scripts.check_layers`: the layout rules anyone can check (issue 23).

Prints every finding and exits 1 when there is one:

- an import circle between the project's modules (every import counts: at module level, inside
  a function, or under `if TYPE_CHECKING:` — a circle held apart is still a circle);
- a `sys.path` edit outside the scripts' entry points (a `scripts/*.py` with a `__main__` block);
- a module at the `tests/` root other than `__init__.py` and `conftest.py` (tests live in the
  folder of the code they test, helpers in `tests/support`).

The import graph is read from the source (ast), nothing is imported.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".venv", "venv", ".git", "wip-branches", "build", "dist", "var", "node_modules", "migrations"}
"""Folders that hold no project module (alembic's migrations are loaded by alembic, not imported)."""
SYS_PATH_EDITS = {"insert", "append", "extend", "remove", "pop", "clear"}


def python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if not any(
            part in SKIPPED or part.startswith(".") or part.endswith(".egg-info") for part in parts[:-1]
        ):
            yield path


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST, name: str, is_package: bool, modules: set[str]) -> Iterator[str]:
    """Every project module `name` imports: `import a.b` → a.b; `from a import b` → a.b when b is
    a module, else a (the package's `__init__`, as a parent package's is not counted either)."""
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}" if module else alias.name
                yield sub if sub in modules else module


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Project module → the project modules it imports."""
    files = {module_name(root, path): path for path in python_files(root)}
    files.pop("", None)
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set(_imports(tree, name, path.name == "__init__.py", modules)) & modules
        graph[name] = targets - {name}
    return graph


def import_circles(root: Path = ROOT) -> list[list[str]]:
    """Each group of modules that import one another (Tarjan's strongly connected components),
    as one circle through them: [a, b, …, a]."""
    graph = import_graph(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(start: str) -> None:  # iterative: no recursion limit on a deep graph
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
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return [_circle(graph, group) for group in sorted(groups)]


def _circle(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    return [*paths[node], start]
                if child not in paths:
                    paths[child] = [*paths[node], child]
                    following.append(child)
        frontier = following
    return [*group, start]


def _is_entry_point(root: Path, path: Path, tree: ast.Module) -> bool:
    if path.parent != root / "scripts":
        return False
    return any(
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
        for node in tree.body
    )


def _edits_sys_path(node: ast.AST) -> bool:
    def is_sys_path(expr: ast.AST) -> bool:
        if isinstance(expr, ast.Subscript):
            expr = expr.value
        return (
            isinstance(expr, ast.Attribute)
            and expr.attr == "path"
            and isinstance(expr.value, ast.Name)
            and expr.value.id == "sys"
        )

    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return is_sys_path(node.func.value) and node.func.attr in SYS_PATH_EDITS
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(is_sys_path(target) for target in targets)
    return False


def sys_path_edits(root: Path = ROOT) -> list[str]:
    """`file:line` of every sys.path edit outside the scripts' entry points."""
    found = []
    for path in python_files(root):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if _is_entry_point(root, path, tree):
            continue
        found += [
            f"{path.relative_to(root)}:{node.lineno}" for node in ast.walk(tree) if _edits_sys_path(node)
        ]
    return found


def root_test_modules(root: Path = ROOT) -> list[str]:
    """Modules at the tests/ root other than __init__.py and conftest.py."""
    tests = root / "tests"
    if not tests.is_dir():
        return []
    return [
        str(path.relative_to(root))
        for path in sorted(tests.glob("*.py"))
        if path.name not in {"__init__.py", "conftest.py"}
    ]


def findings(root: Path = ROOT) -> list[str]:
    return [
        *(f"import circle: {' → '.join(circle)}" for circle in import_circles(root)),
        *(f"sys.path edited outside the scripts' entry points: {where}" for where in sys_path_edits(root)),
        *(f"module at the tests/ root (tests go beside the code they test, helpers in tests/support): {name}"
          for name in root_test_modules(root)),
    ]  # fmt: skip


def main(root: Path = ROOT) -> int:
    found = findings(root)
    for line in found:
        print(line)
    if found:
        print(f"check_layers: {len(found)} finding(s)", file=sys.stderr)
        return 1
    print("check_layers: no import circle, no sys.path edit outside the scripts' entry points, "
          "no module at the tests/ root")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
