"""The channels a notice leaves by: the portal webhook, email over SMTP, SMS through a gateway.

Each answers one attempt with an `Attempt` (domain.delivery): delivered, retry later, or refused
for good. Errors are reduced to codes (HTTP 503, SMTP 550, ConnectError): the other side's text
may quote an address. Nothing here logs an address, a name or a message.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiosmtplib
import httpx

from adapters.webhook_signing import signed_headers
from domain.delivery import Attempt, Outcome
from domain.sms import sms_text

log = logging.getLogger(__name__)

WEBHOOK, EMAIL, SMS = "webhook", "email", "sms"

SUBJECTS = {
    "payment_due": "Thông báo số tiền phải nộp gia hạn thẻ BHYT hộ gia đình",
    "renewed": "Thông báo kết quả gia hạn thẻ BHYT thành công",
    "rejected": "Hồ sơ gia hạn thẻ BHYT hộ gia đình không được chấp nhận",
    "expired": "Hồ sơ gia hạn thẻ BHYT hộ gia đình đã hết hạn nộp tiền",
    "cancelled": "Hồ sơ gia hạn thẻ BHYT hộ gia đình đã được hủy",
    "payment_review": "Khoản thanh toán gia hạn thẻ BHYT đang được kiểm tra",
}
SIGNATURE = "Bảo hiểm xã hội Việt Nam\nThư gửi tự động, vui lòng không trả lời thư này."


@dataclass(frozen=True)
class DeliveryJob:
    """One notice for one channel, with whom it addresses (the declarant) and where."""

    channel: str
    notice_id: str
    application_id: str
    kind: str
    recipient: str
    message: str
    payload: dict[str, Any] = field(default_factory=dict)
    address: str | None = None
    addressee: str | None = None


class Channel(Protocol):
    name: str

    async def deliver(self, job: DeliveryJob) -> Attempt: ...


def http_attempt(response: httpx.Response) -> Attempt:
    """2xx taken; 401/403 our credentials refused: retried and alerted (a rotated secret must not
    lose notices); 408/425/429/5xx later; any other 4xx refuses this notice for good."""
    code = response.status_code
    if response.is_success:
        return Attempt(Outcome.DELIVERED)
    error = f"HTTP {code}"
    if code in (401, 403):
        return Attempt(Outcome.RETRY, error, alert=True)
    if code >= 500 or code in (408, 425, 429):
        return Attempt(Outcome.RETRY, error)
    return Attempt(Outcome.REJECTED, error)


def webhook_body(job: DeliveryJob) -> dict[str, Any]:
    return {
        "id": job.notice_id,
        "application_id": job.application_id,
        "kind": job.kind,
        "recipient": job.recipient,
        "addressee": job.addressee,
        "message": job.message,
        "payload": job.payload,
    }


class WebhookChannel:
    """The portal's push endpoint, signed in the Standard Webhooks form (README)."""

    name = WEBHOOK

    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.url, self.secret = url, secret
        self.transport, self.timeout = transport, timeout_seconds

    async def deliver(self, job: DeliveryJob) -> Attempt:
        body = json.dumps(webhook_body(job), ensure_ascii=False).encode()
        headers = {"Idempotency-Key": job.notice_id, "Content-Type": "application/json"}
        if self.secret:
            headers.update(signed_headers(self.secret, job.notice_id, body))
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as client:
                response = await client.post(self.url, content=body, headers=headers)
        except httpx.TransportError as exc:
            return Attempt(Outcome.RETRY, f"transport error: {type(exc).__name__}")
        return http_attempt(response)


def smtp_address(url: str) -> tuple[str, int]:
    """`smtp://host:port` (NOTIFY_SMTP_URL) → (host, port); port 25 when not given."""
    parts = urlsplit(url)
    if parts.scheme != "smtp" or not parts.hostname:
        raise ValueError("NOTIFY_SMTP_URL must be smtp://host:port")
    return parts.hostname, parts.port or 25


def email_message(job: DeliveryJob, sender: str) -> EmailMessage:
    """Plain text, UTF-8, addressed to the declarant by name; the Message-ID is the notice's, so
    a mail kept twice (a retry after a lost answer) is recognisably the same mail."""
    mail = EmailMessage()
    mail["Subject"] = SUBJECTS.get(job.kind, "Thông báo gia hạn thẻ BHYT hộ gia đình")
    mail["From"] = sender
    mail["To"] = formataddr((job.addressee or "", job.address or ""))
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = f"<{job.notice_id}.{job.channel}@bhyt.notices>"
    lines = [f"Kính gửi {job.addressee}," if job.addressee else "Kính gửi người kê khai,", ""]
    if job.kind == "renewed":
        lines.append(f"Thẻ BHYT số {job.recipient}:")
    lines += [job.message, ""]
    if job.kind == "renewed" and job.payload.get("valid_to"):
        start, end = job.payload.get("valid_from"), job.payload["valid_to"]
        lines += [f"Thời hạn sử dụng của thẻ: từ {_vn_day(start)} đến {_vn_day(end)}.", ""]
    if job.payload.get("receipt"):
        lines += [f"Biên lai thu tiền: {job.payload['receipt']}.", ""]
    lines.append(SIGNATURE)
    mail.set_content("\n".join(lines), charset="utf-8")
    return mail


def _vn_day(iso: Any) -> str:
    return date.fromisoformat(str(iso)).strftime("%d/%m/%Y") if iso else "—"


class EmailChannel:
    """Email over SMTP to the server of NOTIFY_SMTP_URL (a local one under `make run`)."""

    name = EMAIL

    def __init__(self, url: str, sender: str, *, timeout_seconds: float = 10.0) -> None:
        self.host, self.port = smtp_address(url)
        self.sender, self.timeout = sender, timeout_seconds

    async def deliver(self, job: DeliveryJob) -> Attempt:
        if not job.address:
            return Attempt(Outcome.REJECTED, "no address")
        try:
            await aiosmtplib.send(
                email_message(job, self.sender), hostname=self.host, port=self.port, timeout=self.timeout
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = sorted({r.code for r in exc.recipients})
            permanent = all(500 <= c < 600 for c in codes)
            return Attempt(Outcome.REJECTED if permanent else Outcome.RETRY, f"SMTP {codes}")
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code in (530, 535):  # our credentials: alert, keep trying
                return Attempt(Outcome.RETRY, f"SMTP {exc.code}", alert=True)
            outcome = Outcome.REJECTED if 500 <= exc.code < 600 else Outcome.RETRY
            return Attempt(outcome, f"SMTP {exc.code}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Attempt(Outcome.RETRY, f"SMTP {type(exc).__name__}")
        return Attempt(Outcome.DELIVERED)


def international(phone: str) -> str:
    """0912345678 → 84912345678, the form SMS gateways take."""
    return "84" + phone[1:] if phone.startswith("0") else phone


class SmsChannel:
    """SMS through an HTTP gateway (simulators/sms locally): one unaccented GSM-7 message a notice."""

    name = SMS

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.transport, self.timeout = transport, timeout_seconds
        self.headers = {"Authorization": f"Bearer {api_key}"}

    async def deliver(self, job: DeliveryJob) -> Attempt:
        if not job.address:
            return Attempt(Outcome.REJECTED, "no address")
        body = {
            "to": international(job.address),
            "text": sms_text(job.kind, job.recipient, job.message, job.payload),
            "reference": job.notice_id,
        }
        try:
            async with httpx.AsyncClient(
                transport=self.transport, timeout=self.timeout, headers=self.headers
            ) as client:
                response = await client.post(f"{self.url}/api/v1/sms", json=body)
        except httpx.TransportError as exc:
            return Attempt(Outcome.RETRY, f"transport error: {type(exc).__name__}")
        return http_attempt(response)
