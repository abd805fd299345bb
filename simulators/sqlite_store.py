"""The storage both simulators share: one SQLite file (stdlib sqlite3) and a connection per call.

A new connection per call keeps a store safe under uvicorn's threads and event loop; WAL lets
readers carry on while one writer commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar


class SqliteStore:
    SCHEMA: ClassVar[str]
    """The subclass's CREATE ... IF NOT EXISTS script, run on every start (so idempotent)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(self.SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back if it raises; then closed."""
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()
