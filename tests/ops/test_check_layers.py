"""`python -m scripts.check_layers` (issue 23): the layout rules, on this checkout and on small
made-up trees that break each one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts import check_layers

ROOT = Path(__file__).resolve().parents[2]


def test_no_import_circle_between_project_modules() -> None:
    assert check_layers.import_circles(ROOT) == []


def test_no_sys_path_edit_outside_the_scripts_entry_points() -> None:
    assert check_layers.sys_path_edits(ROOT) == []


def test_no_module_at_the_tests_root() -> None:
    assert check_layers.root_test_modules(ROOT) == []


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_circle_is_found_even_under_type_checking_or_in_a_function(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.c import C\n",
            "pkg/c.py": "def f():\n    from . import a\n",
            "pkg/d.py": "from pkg import a\n",
        },
    )
    assert check_layers.import_circles(root) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_importing_a_submodule_through_its_package_is_no_circle(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {"pkg/__init__.py": "from pkg.a import A\n", "pkg/a.py": "from pkg import b\n", "pkg/b.py": ""},
    )
    assert check_layers.import_circles(root) == []


def test_sys_path_edits_are_allowed_only_in_a_scripts_entry_point(tmp_path: Path) -> None:
    edit = "import sys\nsys.path.insert(0, '.')\n"
    root = write(
        tmp_path,
        {
            "scripts/run.py": edit + "if __name__ == '__main__':\n    pass\n",
            "scripts/lib.py": edit,
            "bench/x.py": "import sys\nsys.path[:0] = ['.']\n",
        },
    )
    assert check_layers.sys_path_edits(root) == ["bench/x.py:2", "scripts/lib.py:2"]


def test_a_test_file_at_the_tests_root_is_found(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {"tests/__init__.py": "", "tests/conftest.py": "", "tests/test_x.py": "", "tests/a/test_y.py": ""},
    )
    assert check_layers.root_test_modules(root) == ["tests/test_x.py"]


def test_the_command_prints_each_finding_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_layers.main(write(tmp_path, {"tests/test_x.py": ""})) == 1
    assert "tests/test_x.py" in capsys.readouterr().out


def test_it_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scripts.check_layers"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr


def test_a_circle_through_a_type_checking_import_is_found(tmp_path: Path) -> None:
    """The check is only as good as its reading of imports: the circle issue 23 removed
    (`adapters.db.repository` ⇄ `adapters.db.allocate`, one side under TYPE_CHECKING) is found."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "repository.py").write_text("from pkg import allocate as step4\n")
    (tmp_path / "pkg" / "allocate.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.repository import Repository\n"
    )
    [circle] = check_layers.import_circles(tmp_path)
    assert set(circle) >= {"pkg.allocate", "pkg.repository"}
