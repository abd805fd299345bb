"""`starter.py seed` on a file that repeats a personal number: line and field named, no personal data.

Today's failure mode was a raw IntegrityError printing both rows (names, numbers, dates of
birth) on the operator's terminal. The command runs as an operator runs it, as a process,
against a registry simulator and a SQLite BHXH database.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT, ServiceProcess, start_registry

DEMO = json.loads((ROOT / "data" / "demo.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with start_registry(tmp_path_factory.mktemp("registry") / "registry.db") as process:
        yield process


def seed(file: Path, registry: ServiceProcess, db: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "REGISTRY_URL": registry.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
    }
    return subprocess.run(
        [sys.executable, "starter.py", "seed", str(file)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def personal_values(data: dict[str, Any]) -> set[str]:
    values = set()
    for section in ("citizens", "participants"):
        for item in data[section]:
            values |= {item["personal_id"], item["full_name"], item["date_of_birth"]}
    return values


def line_of_nth_object_with(path: Path, key: str, n: int) -> int:
    """1-based line of the n-th (0-based) line holding `"key":` (the file is one field a line)."""
    lines = [i + 1 for i, text in enumerate(path.read_text().splitlines()) if f'"{key}":' in text]
    return lines[n]


def test_duplicate_in_the_file_is_named_by_line_and_field(registry: ServiceProcess, tmp_path: Path) -> None:
    data = copy.deepcopy(DEMO)
    data["participants"][3]["personal_id"] = data["participants"][1]["personal_id"]
    file = tmp_path / "extract.json"
    file.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")

    done = seed(file, registry, tmp_path / "bhyt.db")

    output = done.stdout + done.stderr
    assert done.returncode != 0
    # participants[3] opens one line before its "personal_id" line (indent=2, one field a line)
    participants_start = len(data["citizens"])
    line = line_of_nth_object_with(file, "personal_id", participants_start + 3) - 1
    assert f"{file}:{line}: participants[3].personal_id" in output, output
    assert "participants[1]" in output and "nothing changed" in output
    assert not [v for v in personal_values(data) if v in output], output
    assert "Traceback" not in output


def test_number_held_in_the_database_is_named_by_line_and_field(
    registry: ServiceProcess, tmp_path: Path
) -> None:
    db = tmp_path / "bhyt.db"
    assert seed(ROOT / "data" / "demo.json", registry, db).returncode == 0
    data = {
        "citizens": [],
        "participants": [copy.deepcopy(DEMO["participants"][1])],
        "household_contributions": [],
    }
    data["participants"][0]["bhxh_number"] = "0199999999"  # a new person with someone's personal number
    data["participants"][0]["card_number"] = "GD4010199999999"
    file = tmp_path / "second.json"
    file.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")

    done = seed(file, registry, db)

    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"{file}:4: participants[0].personal_id: already held" in output, output
    assert not [v for v in personal_values(DEMO) if v in output], output
    assert "Traceback" not in output
