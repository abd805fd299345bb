"""The registry simulator's own storage: one SQLite file, one table of citizens.

The standard sqlite3 module is enough here: the simulator is a separate process with a handful
of rows, and a new connection per call keeps it safe under uvicorn's threads and event loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from simulators.sqlite_store import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS citizens (
    personal_id     TEXT PRIMARY KEY,
    full_name       TEXT NOT NULL,
    date_of_birth   TEXT NOT NULL,
    gender          TEXT NOT NULL,
    deceased        INTEGER NOT NULL DEFAULT 0,
    permanent_code  TEXT,
    permanent_addr  TEXT,
    temporary_code  TEXT,
    temporary_addr  TEXT
);
CREATE INDEX IF NOT EXISTS citizens_permanent ON citizens (permanent_code);
CREATE INDEX IF NOT EXISTS citizens_temporary ON citizens (temporary_code);
"""

_COLUMNS = (
    "personal_id, full_name, date_of_birth, gender, deceased, "
    "permanent_code, permanent_addr, temporary_code, temporary_addr"
)


class CitizenStore(SqliteStore):
    SCHEMA = SCHEMA

    def upsert(self, citizens: Iterable[Mapping[str, Any]]) -> int:
        rows = [_to_row(c) for c in citizens]
        with self._connect() as db:
            db.executemany(
                f"INSERT INTO citizens ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (personal_id) DO UPDATE SET full_name=excluded.full_name, "
                "date_of_birth=excluded.date_of_birth, gender=excluded.gender, deceased=excluded.deceased, "
                "permanent_code=excluded.permanent_code, permanent_addr=excluded.permanent_addr, "
                "temporary_code=excluded.temporary_code, temporary_addr=excluded.temporary_addr",
                rows,
            )
        return len(rows)

    def lookup(self, personal_ids: Sequence[str]) -> list[dict[str, Any]]:
        if not personal_ids:
            return []
        marks = ",".join("?" * len(personal_ids))
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM citizens WHERE personal_id IN ({marks}) ORDER BY personal_id",
                list(personal_ids),
            ).fetchall()
        return [_from_row(r) for r in rows]

    def at_residence(self, code: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM citizens WHERE permanent_code = ? OR temporary_code = ? "
                "ORDER BY personal_id",
                (code, code),
            ).fetchall()
        return [_from_row(r) for r in rows]

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT count(*) FROM citizens").fetchone()[0])


def _to_row(c: Mapping[str, Any]) -> tuple[Any, ...]:
    perm = c.get("permanent_residence") or {}
    temp = c.get("temporary_residence") or {}
    return (
        c["personal_id"],
        c["full_name"],
        str(c["date_of_birth"]),
        str(c["gender"]),
        1 if c.get("deceased") else 0,
        perm.get("code"),
        perm.get("address"),
        temp.get("code"),
        temp.get("address"),
    )


def _from_row(r: sqlite3.Row) -> dict[str, Any]:
    def residence(code: str | None, address: str | None) -> dict[str, str] | None:
        return None if code is None else {"code": code, "address": address or ""}

    return {
        "personal_id": r["personal_id"],
        "full_name": r["full_name"],
        "date_of_birth": r["date_of_birth"],
        "gender": r["gender"],
        "deceased": bool(r["deceased"]),
        "permanent_residence": residence(r["permanent_code"], r["permanent_addr"]),
        "temporary_residence": residence(r["temporary_code"], r["temporary_addr"]),
    }
