"""Every configuration name of DESIGN §5, in one place, read from the environment or `.env`.

The defaults are the local ones: they make `make run` work on a fresh clone. A real deployment
sets at least DATABASE_URL, TEMPORAL_ADDRESS, BHYT_API_TOKEN, BHYT_IPN_SECRET, BHYT_TMN_CODE,
REGISTRY_URL and BANK_URL.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_serializer, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent
VAR = ROOT / "var"

DEV_PAYLOAD_KEY = "ZGV2LW9ubHktcGF5bG9hZC1rZXktMzItYnl0ZXMhISE"
"""The documented local payload key; production refuses it."""


class PayloadKey(BaseModel):
    """One key of the payload key ring: its id travels with each payload, the key never does."""

    id: str
    key: SecretStr


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # BHXH database (SQLAlchemy async URL; a plain postgresql:// or sqlite:// URL is upgraded)
    database_url: str = f"sqlite+aiosqlite:///{VAR / 'bhyt.db'}"

    # Temporal
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "bhyt-renewal"
    temporal_ui_url: str = "http://localhost:8233"
    bhyt_payload_keys: list[PayloadKey] = [PayloadKey(id="dev-1", key=SecretStr(DEV_PAYLOAD_KEY))]
    """The payload key ring, JSON in the environment: `[{"id": "2026-11", "key": "<url-safe base64 of
    32 bytes>"}, ...]`. Every key decrypts; the one named by BHYT_PAYLOAD_KEY_ID encrypts."""
    bhyt_payload_key_id: str = "dev-1"

    # Operators (the codec server that decrypts payloads for the Temporal UI)
    bhyt_operator_tokens: dict[str, SecretStr] = {"dev-operator": SecretStr("dev-operator-token")}
    """JSON in the environment, operator name → token: `{"an.nguyen": "…", "binh.tran": "…"}`."""
    bhyt_operator_token: SecretStr | None = None
    """`starter.py`'s operator credential (or `--operator-token`): it acts as the operator this
    token names in BHYT_OPERATOR_TOKENS. Unset in development: the dev operator's token."""
    bhyt_codec_host: str = "127.0.0.1"
    bhyt_codec_port: int = 8089
    bhyt_codec_url: str = "http://127.0.0.1:8089"
    """Where the operator's browser reaches the codec server (the UI's codec endpoint)."""

    # Deployment: "production" makes every process refuse the documented dev values (production.py)
    bhyt_env: Literal["development", "production"] = "development"
    bhyt_log_format: Literal["json", "console"] = "json"

    @field_serializer("bhyt_payload_keys", "bhyt_operator_tokens", when_used="json")
    def _secrets_as_environment(self, value: list[PayloadKey] | dict[str, SecretStr]) -> str:
        """The JSON the environment variable holds, secrets included: what a child process is given."""
        if isinstance(value, dict):
            return json.dumps({name: token.get_secret_value() for name, token in value.items()})
        return json.dumps([{"id": k.id, "key": k.key.get_secret_value()} for k in value])

    @field_validator("bhyt_payload_keys", "bhyt_operator_tokens", mode="before")
    @classmethod
    def _json_text(cls, value: Any) -> Any:
        """The environment's JSON text also when handed in directly (Settings(**env), tests)."""
        return json.loads(value) if isinstance(value, str) else value

    @property
    def production(self) -> bool:
        return self.bhyt_env == "production"

    # HTTP API
    bhyt_api_host: str = "127.0.0.1"
    bhyt_api_port: int = 8000
    bhyt_api_token: str = "dev-portal-token"
    bhyt_public_url: str = "http://127.0.0.1:8000"
    """Where the bank reaches our IPN endpoint (the `vnp_ReturnUrl`/IPN base given to the bank)."""

    # Bank callbacks (VNPay-style)
    bhyt_ipn_secret: str = "dev-ipn-secret"
    bhyt_tmn_code: str = "BHXHDEV1"
    bhyt_payment_deadline: timedelta = timedelta(hours=24)
    """ISO 8601 duration in the environment, e.g. PT24H."""
    bhyt_payment_margin: timedelta = timedelta(minutes=10)
    """The bank order expires this long before the run's deadline (ISO 8601, e.g. PT10M), so a
    payment authorised at the bank's last second reaches the run before the run expires."""
    bhyt_receipt_series: str = "BH26"

    # The e-receipt (issue 15): who collects, how the document is signed, who may look it up
    bhyt_receipt_template: str = "01BLP0-001"
    """Ký hiệu mẫu biên lai (NĐ 123/2020 Điều 32); the default is a local placeholder."""
    bhyt_receipt_issuer_name: str = "BẢO HIỂM XÃ HỘI VIỆT NAM"
    bhyt_receipt_issuer_address: str = "Số 7 Tràng Thi, Hoàn Kiếm, Hà Nội"
    bhyt_receipt_issuer_tax_code: str = "0000000000"
    """Mã số thuế of the collecting unit; the default is a local placeholder."""
    bhyt_receipt_fee_name: str = "Tiền đóng bảo hiểm y tế hộ gia đình"
    bhyt_receipt_cert_file: Path | None = None
    """PEM certificate that signs receipt PDFs; default `var/receipt-signing/cert.pem`."""
    bhyt_receipt_key_file: Path | None = None
    """Its PEM private key; default `var/receipt-signing/key.pem`."""
    bhyt_receipt_key_password: str | None = None
    bhyt_receipt_self_signed: bool = True
    """Create a local self-signed certificate when the files are missing (local runs only:
    production sets this to false and mounts the insurer's certificate)."""
    bhyt_receipt_lookups_per_minute: int = 30
    """Public receipt lookups (`GET /receipts/{code}`) allowed per client address and minute."""

    # Outside systems
    registry_url: str = "http://127.0.0.1:8101"
    registry_api_key: str = "dev-registry-key"
    registry_port: int = 8101
    bank_url: str = "http://127.0.0.1:8102"
    bank_port: int = 8102
    notify_webhook_url: str | None = None
    notify_webhook_secret: str = "dev-webhook-secret"
    """HMAC key of the notices' Standard Webhooks signature (adapters/webhook_signing.py)."""
    temporal_plaintext_private_network: bool = False
    """Production only: allow Temporal without TLS or API key because its frontend is reachable on a
    private network alone (compose's internal network). TLS and API key come from the SDK's
    environment configuration (TEMPORAL_TLS*, TEMPORAL_API_KEY, TEMPORAL_PROFILE, …)."""
    notify_sweep_seconds: float = 2.0
    """How often the worker delivers the outbox's pending notices to the webhook."""
    bhyt_refund_follow_seconds: float = 5.0
    """How often the worker's refund follower looks for refunds in process that are due a check
    (each refund is asked about with its own backoff: 10 s, 20 s, … at most an hour apart)."""
    notify_smtp_url: str | None = None
    """`smtp://host:port`: notices by email to the declarant (make run starts a local server)."""
    notify_email_from: str = "BHXH Việt Nam <thongbao@bhyt.local>"
    sms_gateway_url: str | None = None
    """The SMS gateway (simulators/sms locally): notices by SMS to the declarant's mobile number."""
    sms_gateway_api_key: str = "dev-sms-key"
    sms_gateway_port: int = 8103
    smtp_port: int = 8025
    """Port of the local SMTP server `make run` starts when NOTIFY_SMTP_URL is not given."""
    notify_retry_base_seconds: float = 5.0
    """Backoff of a notice's delivery on one channel: 5 s, 10 s, 20 s, … after each failure."""
    notify_retry_max_seconds: float = 3600.0

    # Worker tuning
    worker_max_concurrent_activities: int = 100
    worker_max_concurrent_workflow_tasks: int = 100
    worker_max_cached_workflows: int = 1000
    """Runs kept in memory between workflow tasks (sticky). A run evicted from the cache is rebuilt
    from its history at its next task (a replay in a fresh sandbox: CPU); each cached run costs
    memory. More applications awaiting payment than this means replays when they are paid."""
    worker_workflow_task_pollers: int = 5
    worker_activity_task_pollers: int = 5
    worker_metrics_address: str | None = None
    """host:port where the worker serves the Temporal SDK's Prometheus metrics; unset: none."""

    # Behind the reverse proxy (issue 21)
    bhyt_trusted_proxies: str = ""
    """Addresses or networks (comma-separated, e.g. `10.0.4.2,10.0.5.0/24`) of the reverse proxies
    whose X-Forwarded-For the API believes; the client of a request from anywhere else is its peer.
    Empty: nobody's header is believed."""
    bhyt_metrics_refresh_seconds: float = 30.0
    """How often the API recomputes the business gauges of /metrics (a scrape only reads them)."""
    # Reminders before household cards lapse (issue 22): the daily schedule `household-reminders`
    bhyt_reminder_days: int = Field(default=30, ge=1, le=366)
    """A household is reminded when its first household card ends within this many days."""
    bhyt_reminder_hour: int = Field(default=8, ge=0, le=23)
    """Hour of the day (Vietnam time) of the daily run; read when the worker creates the schedule."""
    bhyt_reminder_link: str | None = None
    """The portal's renewal form, linked from each reminder: `{application_id}` is replaced by the
    household's most recent application. Unset: the API's `GET /api/v1/renewals/{id}/prefill`."""


def receipt_signing_files(settings: Settings) -> tuple[Path, Path]:
    """The certificate and key that sign receipts, with their local defaults under var/."""
    folder = VAR / "receipt-signing"
    return (
        settings.bhyt_receipt_cert_file or folder / "cert.pem",
        settings.bhyt_receipt_key_file or folder / "key.pem",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
