"""Reading a DESIGN §6 data file for `starter.py seed`, with the line of every record.

The BHXH database refuses a personal number or a card held twice, and the raw database error
would print the rows it compared: names and numbers on an operator's terminal. So the file is
checked first, and a problem is told as the file's line and the field, never the value.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from json import scanner
from json.decoder import JSONObject
from pathlib import Path
from typing import Any

UNIQUE_FIELDS: dict[str, tuple[str, ...]] = {
    "citizens": ("personal_id",),
    "participants": ("bhxh_number", "card_number", "personal_id"),
}
"""Per list of the file, the fields no two records may share (the database's unique keys)."""


class LinedDict(dict[str, Any]):
    """A JSON object that remembers the line it starts on."""

    line: int = 0


class _LineDecoder(json.JSONDecoder):
    def __init__(self, text: str) -> None:
        super().__init__()
        newlines = [i for i, ch in enumerate(text) if ch == "\n"]

        def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[LinedDict, int]:
            _, start = s_and_end
            obj, end = JSONObject(s_and_end, *args)
            lined = LinedDict(obj)
            lined.line = bisect.bisect_left(newlines, start) + 1
            return lined, end

        self.parse_object = parse_object  # type: ignore[assignment]
        self.scan_once = scanner.py_make_scanner(self)


@dataclass(frozen=True)
class FileProblem:
    line: int
    where: str
    message: str

    def format(self, path: Path | str) -> str:
        return f"{path}:{self.line}: {self.where}: {self.message}"


class ReferenceFileError(ValueError):
    def __init__(self, path: Path | str, problems: list[FileProblem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(p.format(path) for p in problems))


def load(path: Path) -> dict[str, Any]:
    """The file's content, each object a LinedDict; ReferenceFileError if a unique field repeats."""
    text = path.read_text(encoding="utf-8")
    try:
        data = _LineDecoder(text).decode(text)
    except json.JSONDecodeError as exc:
        raise ReferenceFileError(path, [FileProblem(exc.lineno, "file", f"not JSON ({exc.msg})")]) from None
    if not isinstance(data, dict):
        raise ReferenceFileError(path, [FileProblem(1, "file", "must be a JSON object")])
    problems = duplicates(data)
    if problems:
        raise ReferenceFileError(path, problems)
    return data


def line_of(item: Any) -> int:
    return getattr(item, "line", 0)


def duplicates(data: dict[str, Any]) -> list[FileProblem]:
    """Every record repeating a unique field of an earlier one, named by line and field only."""
    problems = []
    for section, fields in UNIQUE_FIELDS.items():
        items = data.get(section) or []
        for field in fields:
            first: dict[str, tuple[int, int]] = {}
            for index, item in enumerate(items):
                value = item.get(field) if isinstance(item, dict) else None
                if value in (None, ""):
                    continue
                key = str(value).strip().upper()
                if key in first:
                    earlier, earlier_line = first[key]
                    problems.append(
                        FileProblem(
                            line_of(item),
                            f"{section}[{index}].{field}",
                            f"the same {field} as {section}[{earlier}] (line {earlier_line}); each once",
                        )
                    )
                else:
                    first[key] = (index, line_of(item))
    return sorted(problems, key=lambda p: p.line)
