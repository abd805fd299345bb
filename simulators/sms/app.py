"""The SMS gateway simulator as a FastAPI app (see `simulators/sms/__init__.py`)."""

from __future__ import annotations

import asyncio
import hmac
import random
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, HTTPException, Query
from pydantic import BaseModel, Field

from domain.sms import GSM7_BASIC
from simulators.sqlite_store import SqliteStore

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass
class Knobs:
    """Faults, for tests and demos: PUT /admin/knobs changes them live."""

    down: bool = False
    """Answer 503 to every send (the gateway is up but not sending)."""
    fail_rate: float = 0.0
    """That share of sends answers 503."""
    unauthorized: bool = False
    """Answer 401 to every send, as after a rotated API key."""
    delay_ms: int = 0


class KnobsIn(BaseModel):
    down: bool | None = None
    fail_rate: float | None = Field(None, ge=0, le=1)
    unauthorized: bool | None = None
    delay_ms: int | None = Field(None, ge=0, le=60_000)


class SmsIn(BaseModel):
    to: str = Field(pattern=r"^84\d{9}$", description="Vietnamese mobile number, international form")
    text: str = Field(min_length=1, max_length=1600)
    reference: str = Field(min_length=1, max_length=64, description="the sender's id: deduplicated")


def encoding_of(text: str) -> tuple[str, int]:
    """(encoding, parts) as a handset would receive it: GSM-7 if every character is in the
    basic alphabet, else UCS-2."""
    if all(c in GSM7_BASIC for c in text):
        return "GSM-7", 1 if len(text) <= GSM7_SINGLE else -(-len(text) // GSM7_PART)
    return "UCS-2", 1 if len(text) <= UCS2_SINGLE else -(-len(text) // UCS2_PART)


class SmsStore(SqliteStore):
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS messages (
        id TEXT PRIMARY KEY,
        reference TEXT UNIQUE NOT NULL,
        recipient TEXT NOT NULL,
        text TEXT NOT NULL,
        encoding TEXT NOT NULL,
        segments INTEGER NOT NULL,
        received_at TEXT NOT NULL
    );
    """

    def send(self, body: SmsIn) -> dict[str, Any]:
        encoding, segments = encoding_of(body.text)
        with self._connect() as db:
            db.execute(
                "INSERT INTO messages (id, reference, recipient, text, encoding, segments, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reference) DO NOTHING",
                (uuid.uuid4().hex, body.reference, body.to, body.text, encoding, segments,
                 datetime.now(UTC).isoformat()),
            )  # fmt: skip
            row = db.execute("SELECT * FROM messages WHERE reference = ?", (body.reference,)).fetchone()
        return dict(row)

    def messages(self, to: str | None) -> list[dict[str, Any]]:
        with self._connect() as db:
            if to:
                rows = db.execute("SELECT * FROM messages WHERE recipient = ? ORDER BY received_at", (to,))
            else:
                rows = db.execute("SELECT * FROM messages ORDER BY received_at")
            return [dict(r) for r in rows.fetchall()]


def create_app(db_path: str | Path, *, api_key: str, knobs: Knobs | None = None) -> FastAPI:
    store = SmsStore(db_path)
    knobs = knobs or Knobs()
    app = FastAPI(
        title="SMS gateway simulator",
        description="Stand-in for a brand-name SMS gateway: takes an SMS, says how it would be sent.",
    )
    app.state.store, app.state.knobs = store, knobs
    api = APIRouter(prefix="/api/v1", tags=["sms"])

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.post("/sms", status_code=202)
    async def send(body: SmsIn, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        if knobs.delay_ms:
            await asyncio.sleep(knobs.delay_ms / 1000)
        given = (authorization or "").removeprefix("Bearer ")
        if knobs.unauthorized or not hmac.compare_digest(given.encode(), api_key.encode()):
            raise HTTPException(401, "invalid API key")
        if knobs.down or (knobs.fail_rate and random.random() < knobs.fail_rate):
            raise HTTPException(503, "gateway unavailable")
        if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", body.text):
            raise HTTPException(422, "control characters in text")
        sent = store.send(body)
        return {k: sent[k] for k in ("id", "reference", "encoding", "segments", "received_at")}

    @api.get("/messages")
    def messages(to: Annotated[str | None, Query(pattern=r"^84\d{9}$")] = None) -> list[dict[str, Any]]:
        return store.messages(to)

    admin = APIRouter(prefix="/admin", tags=["admin"])

    @admin.get("/knobs")
    def get_knobs() -> dict[str, Any]:
        return asdict(knobs)

    @admin.put("/knobs")
    def set_knobs(body: KnobsIn) -> dict[str, Any]:
        for name, value in body.model_dump(exclude_none=True).items():
            setattr(knobs, name, value)
        return asdict(knobs)

    app.include_router(api)
    app.include_router(admin)
    return app
