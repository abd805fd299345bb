"""The test reference data (a DESIGN §6 file), as a path and as parsed JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REFERENCE_FILE = Path(__file__).resolve().parent / "data" / "reference.json"

UNKNOWN_PERSONAL_ID = "001099999999"
"""Well-formed, and in no registry: the "not found" case."""


def reference_data() -> dict[str, Any]:
    """A fresh copy each call, so a test may change it freely."""
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))
