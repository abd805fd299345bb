"""BHYT_ENV=production: every process refuses the documented development values, and Temporal
without TLS or an API key (the SDK's environment configuration, through the one connection helper)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from adapters.temporal_client import connect_config, secured
from config import DEV_PAYLOAD_KEY, Settings
from production import problems
from tests.support import ROOT

KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
SAFE = {
    "BHYT_ENV": "production",
    "DATABASE_URL": "postgresql+asyncpg://bhyt:s3cret@db.internal:5432/bhyt",
    "BHYT_PAYLOAD_KEYS": json.dumps([{"id": "2026-11", "key": KEY}]),
    "BHYT_PAYLOAD_KEY_ID": "2026-11",
    "BHYT_API_TOKEN": "portal-token-from-the-vault",
    "BHYT_IPN_SECRET": "bank-shared-secret-from-the-vault",
    "BHYT_TMN_CODE": "BHXH0001",
    "REGISTRY_API_KEY": "registry-key-from-the-vault",
    "NOTIFY_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"w" * 32).decode(),
    "BHYT_OPERATOR_TOKENS": json.dumps({"an.nguyen": "operator-token-0123456789"}),
    "BHYT_RECEIPT_SELF_SIGNED": "false",
    "BHYT_RECEIPT_ISSUER_TAX_CODE": "0101234567",
    "BHYT_PUBLIC_URL": "https://bhyt.example.vn",
    "BHYT_RECEIPT_TEMPLATE": "01BLP0-002",
}


def settings(**env: str) -> Settings:
    return Settings(_env_file=None, **{k.lower(): v for k, v in env.items()})  # type: ignore[call-arg]


def test_safe_production_configuration_passes_with_an_api_key() -> None:
    assert problems(settings(**SAFE), environ={"TEMPORAL_API_KEY": "tmprl-key"}) == []


def test_dev_defaults_are_each_named(monkeypatch: pytest.MonkeyPatch) -> None:
    found = "\n".join(problems(settings(BHYT_ENV="production"), environ={}))
    for name in (
        "BHYT_API_TOKEN",
        "BHYT_IPN_SECRET",
        "BHYT_TMN_CODE",
        "REGISTRY_API_KEY",
        "NOTIFY_WEBHOOK_SECRET",
        "BHYT_PAYLOAD_KEYS",
        "BHYT_OPERATOR_TOKENS",
        "DATABASE_URL",
        "BHYT_RECEIPT_SELF_SIGNED",
        "BHYT_RECEIPT_ISSUER_TAX_CODE",
        "BHYT_PUBLIC_URL",
        "BHYT_RECEIPT_TEMPLATE",
        "Temporal without TLS or API key",
    ):
        assert name in found, name
    assert problems(settings(), environ={}) == [], "development runs as before"


def test_temporal_security_comes_from_the_sdk_environment_configuration() -> None:
    base = settings(**SAFE)
    assert "Temporal" in " ".join(problems(base, environ={}))
    assert secured(connect_config(base, {"TEMPORAL_API_KEY": "k"}))
    tls = connect_config(base, {"TEMPORAL_TLS": "true", "TEMPORAL_TLS_SERVER_NAME": "temporal.internal"})
    assert secured(tls) and tls["target_host"] == base.temporal_address
    assert not problems(base, environ={"TEMPORAL_TLS": "true"})
    assert not problems(settings(**SAFE, TEMPORAL_PLAINTEXT_PRIVATE_NETWORK="true"), environ={})


@pytest.mark.parametrize(
    "argv",
    [["worker.py"], ["-m", "api"], ["-m", "api.codec_server"], ["starter.py", "status", "x"]],
    ids=["worker", "api", "codec", "starter"],
)
def test_processes_refuse_to_start(argv: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BHYT_", "TEMPORAL_"))}
    env["BHYT_ENV"] = "production"
    done = subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "refusing to start with BHYT_ENV=production" in done.stderr, done.stderr[-2000:]
    assert "BHYT_IPN_SECRET is the development default" in done.stderr
    assert "dev-ipn-secret" not in done.stderr and "dev-portal-token" not in done.stderr


# -- issue 21: what an operator deploying compose would have got past the check -----------------


@pytest.mark.parametrize(
    "url",
    [
        "http://api:8000",  # compose's old default: an internal name
        "https://api:8000",
        "https://localhost",
        "http://bhyt.example.vn",  # the bank would post its IPN in clear
        "bhyt.example.vn",
        "https://bhyt.example.vn:notaport",
    ],
)
def test_public_url_must_be_an_https_address_the_bank_reaches(url: str) -> None:
    found = problems(settings(**{**SAFE, "BHYT_PUBLIC_URL": url}), environ={"TEMPORAL_API_KEY": "k"})
    assert any("BHYT_PUBLIC_URL" in p for p in found), found
    assert all(url not in p for p in found), "the value is not echoed"


def test_public_url_is_what_the_ipn_and_the_receipt_link_use() -> None:
    from api.receipt_documents import lookup_url
    from worker import ipn_url

    good = settings(**SAFE)
    assert not problems(good, environ={"TEMPORAL_API_KEY": "k"})
    assert ipn_url(good) == "https://bhyt.example.vn/api/v1/payments/ipn"
    assert lookup_url(good, "CODE").startswith("https://bhyt.example.vn/receipts/")


def test_the_placeholder_receipt_template_is_refused() -> None:
    found = problems(
        settings(**{**SAFE, "BHYT_RECEIPT_TEMPLATE": "01BLP0-001"}), environ={"TEMPORAL_API_KEY": "k"}
    )
    assert any("BHYT_RECEIPT_TEMPLATE" in p for p in found), found


@pytest.mark.parametrize(
    "spelling",
    [
        DEV_PAYLOAD_KEY + "=",  # padded
        base64.b64encode(base64.urlsafe_b64decode(DEV_PAYLOAD_KEY + "=")).decode(),  # standard base64
        base64.b64encode(base64.urlsafe_b64decode(DEV_PAYLOAD_KEY + "=")).decode().rstrip("="),
    ],
    ids=["padded", "standard", "standard-unpadded"],
)
def test_the_dev_payload_key_is_refused_in_any_spelling(spelling: str) -> None:
    ring = json.dumps([{"id": "2026-11", "key": spelling}])
    found = problems(settings(**{**SAFE, "BHYT_PAYLOAD_KEYS": ring}), environ={"TEMPORAL_API_KEY": "k"})
    assert "BHYT_PAYLOAD_KEYS holds the development payload key" in found
    assert all(spelling not in p for p in found)


def test_trusting_every_proxy_is_refused() -> None:
    found = problems(settings(**{**SAFE, "BHYT_TRUSTED_PROXIES": "*"}), environ={"TEMPORAL_API_KEY": "k"})
    assert any("BHYT_TRUSTED_PROXIES" in p for p in found), found
