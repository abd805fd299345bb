"""A route's unexpected error answers 500 with an error id; the log names the type, not the message."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from api.safe_errors import SafeErrorsMiddleware

PERSONAL_ID = "001080012345"


async def test_unexpected_error_is_answered_and_logged_without_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    app.add_middleware(SafeErrorsMiddleware)

    @app.get("/boom/{ref}")
    async def boom(ref: str) -> None:
        raise RuntimeError(f"duplicate key (personal_id)=({PERSONAL_ID})")

    caplog.set_level(logging.INFO)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/boom/x")
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "internal error" and len(body["error_id"]) == 12
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert body["error_id"] in logged and "builtins.RuntimeError" in logged and "/boom/{ref}" in logged
    assert PERSONAL_ID not in logged
