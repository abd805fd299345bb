"""An API over a SQLite database holding one issued six-member receipt, with its own signing files.

The `receipt_api` fixture is registered for tests/api by tests/api/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from adapters.db import Database, migrate_async
from api.app import create_app
from config import Settings
from tests.support.receipts import issue_six_member_receipt

APPLICATION_ID = "app-receipt-6"


@dataclass
class ReceiptApi:
    app: FastAPI
    client: httpx.AsyncClient
    db: Database
    settings: Settings
    code: str
    application_id: str = APPLICATION_ID


def receipt_settings(tmp_path: Path, **overrides) -> Settings:
    values = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'bhyt.db'}",
        "bhyt_public_url": "http://receipts.test",
        "bhyt_receipt_cert_file": tmp_path / "signing" / "cert.pem",
        "bhyt_receipt_key_file": tmp_path / "signing" / "key.pem",
        "bhyt_receipt_issuer_tax_code": "0101234567",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def issued_receipt_db(settings: Settings) -> tuple[Database, str]:
    await migrate_async(settings.database_url)
    db = Database(settings.database_url)
    return db, await issue_six_member_receipt(db, APPLICATION_ID)


@pytest.fixture
async def receipt_api(tmp_path) -> AsyncIterator[ReceiptApi]:
    settings = receipt_settings(tmp_path, bhyt_receipt_lookups_per_minute=1000)
    db, code = await issued_receipt_db(settings)
    # the receipt routes never talk to Temporal: no client needed
    app = create_app(settings, temporal=object(), db=db)  # type: ignore[arg-type]
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://receipts.test") as client:
                yield ReceiptApi(app, client, db, settings, code)
    finally:
        await db.dispose()
