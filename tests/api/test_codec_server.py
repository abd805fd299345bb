"""The codec server alone (ASGI): operators only, the UI's origin only, the dev path token not in production."""

from __future__ import annotations

import base64
import json
import logging

import httpx
import pytest
from temporalio.api.common.v1 import Payload

from adapters.temporal_payloads import codec
from api.codec_server import create_codec_app
from config import Settings

SECRET_NAME = "Nguyễn Văn An"


def settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


async def sealed_body(cfg: Settings) -> dict:
    [sealed] = await codec(cfg).encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(SECRET_NAME).encode())]
    )
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
                "data": base64.b64encode(sealed.data).decode(),
            }
        ]
    }


async def test_decode_for_an_operator_and_the_ui_origin_only(caplog: pytest.LogCaptureFixture) -> None:
    cfg = settings()
    app = create_codec_app(cfg)
    body = await sealed_body(cfg)
    caplog.set_level(logging.INFO)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://codec") as client:
        assert (await client.post("/decode", json=body)).status_code == 401
        ok = await client.post(
            "/decode",
            json=body,
            headers={"Authorization": "Bearer dev-operator-token", "Origin": "http://127.0.0.1:8233"},
        )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "http://127.0.0.1:8233"
        [opened] = ok.json()["payloads"]
        assert json.loads(base64.b64decode(opened["data"])) == SECRET_NAME
        other = await client.post(
            "/decode",
            json=body,
            headers={"Authorization": "Bearer dev-operator-token", "Origin": "http://evil.example"},
        )
        assert "access-control-allow-origin" not in other.headers
        assert (await client.post("/o/dev-operator-token/decode", json=body)).status_code == 200
        assert (await client.post("/o/wrong-token/decode", json=body)).status_code == 401
        login = await client.post(
            "/login",
            content="token=dev-operator-token",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert login.status_code == 303 and "httponly" in login.headers["set-cookie"].lower()
        # the client keeps the cookie, as the operator's browser does
        assert (await client.post("/decode", json=body)).status_code == 200
    assert "operator dev-operator decoded 1 payloads" in caplog.text
    assert SECRET_NAME not in caplog.text


async def test_production_refuses_the_token_in_the_path() -> None:
    token = "operator-token-0123456789"
    cfg = settings(bhyt_env="production", bhyt_operator_tokens=json.dumps({"an.nguyen": token}))
    body = await sealed_body(cfg)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_codec_app(cfg)), base_url="http://c"
    ) as client:
        assert (await client.post(f"/o/{token}/decode", json=body)).status_code == 401
        assert (
            await client.post("/decode", json=body, headers={"Authorization": f"Bearer {token}"})
        ).status_code == 200
