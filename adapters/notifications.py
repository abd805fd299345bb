"""Telling participants the outcome (step 5): an outbox in the BHXH database, and a webhook.

The outbox row is written first and is unique per (application, kind, recipient), so a
retried activity or a replayed workflow never notifies twice: the second `send` finds the row
and, if it was delivered, posts nothing. Delivery is at least once (a crash between the POST
and marking the row delivered posts again on retry), so every POST carries a stable
`Idempotency-Key` the receiver can deduplicate on.

Without a webhook URL the notice stays in the outbox as `pending`, for whatever channel
(SMS gateway, VssID push) later drains it. Log lines name the application and the kind only:
recipients are card numbers and messages may carry names.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.db import Database
from adapters.db.outbox import DELIVERED, PENDING, REJECTED
from adapters.db.repository import Repository
from adapters.webhook_signing import signed_headers


def sign_notice(secret: str | None, notice_id: str, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers (adapters/webhook_signing.py), or none without a secret."""
    return signed_headers(secret, notice_id, body) if secret else {}


log = logging.getLogger(__name__)

__all__ = [
    "DELIVERED",
    "KINDS",
    "PENDING",
    "REJECTED",
    "Notice",
    "NotificationDeliveryError",
    "Notifier",
    "write_notice",
]

KINDS = frozenset({"payment_due", "rejected", "expired", "cancelled", "payment_review", "renewed"})
"""The notices the procedure sends; `renewed` goes to each participant (recipient = card number)."""


class NotificationDeliveryError(Exception):
    """The webhook did not take the notice; retryable (the outbox row stays pending)."""


class NotificationRejectedError(NotificationDeliveryError):
    """The webhook refused the notice as malformed (4xx): retrying the same notice will not help."""


@dataclass(frozen=True)
class Notice:
    application_id: str
    kind: str
    recipient: str
    message: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def notice_id(self) -> str:
        """Stable across retries and processes, and reveals nothing of the recipient."""
        key = f"{self.application_id}|{self.kind}|{self.recipient}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.notice_id,
            "application_id": self.application_id,
            "kind": self.kind,
            "recipient": self.recipient,
            "message": self.message,
            "payload": self.payload,
        }


async def write_notice(repo: Repository, notice: Notice) -> tuple[bool, str]:
    """The notice into the outbox within the caller's transaction, so an activity can write it
    with the state change it announces; (inserted, its status)."""
    return await repo.record_notice(
        notice.notice_id,
        application_id=notice.application_id,
        kind=notice.kind,
        recipient=notice.recipient,
        message=notice.message,
        payload=notice.payload,
    )


def _retryable_status(code: int) -> bool:
    return code >= 500 or code in (408, 425, 429)


class Notifier:
    def __init__(
        self,
        db: Database,
        webhook_url: str | None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        attempts: int = 3,
        backoff_seconds: float = 0.2,
        timeout_seconds: float = 5.0,
        signing_secret: str | None = None,
    ) -> None:
        self.db = db
        self.webhook_url = webhook_url
        self.transport = transport
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self.signing_secret = signing_secret

    async def record(self, notice: Notice) -> bool:
        """Write the notice to the outbox only (what the activities do); True the first time.

        Delivery is the worker's sweeper (`retry_pending`), so a webhook outage never holds up
        a run, and money is never waiting on a notice."""
        created, _status = await self._record(notice)
        return created

    async def send(self, notice: Notice) -> bool:
        """Record the notice and deliver it; True only the first time this notice is recorded.

        Raises NotificationDeliveryError when a configured webhook keeps failing, so the
        calling activity is retried; the retry finds the row pending and posts again.
        """
        created, status = await self._record(notice)
        if status != DELIVERED and self.webhook_url is not None:
            await self._deliver(notice)
        return created

    async def retry_pending(self, limit: int = 100) -> int:
        """Deliver notices left pending by earlier failures; returns how many went out."""
        if self.webhook_url is None:
            return 0
        async with self.db.unit_of_work(read_only=True) as uow:
            notices = [
                Notice(r.application_id, r.kind, r.recipient, r.message, dict(r.payload))
                for r in await uow.repo.pending_notices(limit)
            ]
        delivered = 0
        for notice in notices:
            try:
                await self._deliver(notice)
                delivered += 1
            except NotificationDeliveryError:
                continue
        return delivered

    async def status(self, notice: Notice) -> tuple[str, int] | None:
        """(status, attempts) of a recorded notice, for operators and tests."""
        async with self.db.unit_of_work(read_only=True) as uow:
            return await uow.repo.notice_status(notice.notice_id)

    async def _record(self, notice: Notice) -> tuple[bool, str]:
        async with self.db.unit_of_work() as uow:
            inserted, status = await write_notice(uow.repo, notice)
            await uow.commit()
        if not inserted:
            log.info(
                "notice %s for application %s already recorded (%s)",
                notice.kind,
                notice.application_id,
                status,
            )
        return inserted, status

    async def _deliver(self, notice: Notice) -> None:
        assert self.webhook_url is not None
        headers = {"Idempotency-Key": notice.notice_id, "Content-Type": "application/json"}
        error = "no attempt"
        tries = 0
        async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout_seconds) as client:
            for attempt in range(self.attempts):
                if attempt:
                    await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
                tries += 1
                try:
                    body = json.dumps(notice.as_json(), ensure_ascii=False).encode()
                    signed = sign_notice(self.signing_secret, notice.notice_id, body)
                    response = await client.post(
                        self.webhook_url, content=body, headers={**headers, **signed}
                    )
                except httpx.TransportError as exc:
                    error = f"transport error: {type(exc).__name__}"
                    continue
                if response.is_success:
                    await self._mark(notice, tries, delivered=True, error=None)
                    log.info("notice %s for application %s delivered", notice.kind, notice.application_id)
                    return
                error = f"HTTP {response.status_code}"
                if not _retryable_status(response.status_code):
                    await self._mark(notice, tries, delivered=False, error=error, rejected=True)
                    log.warning(
                        "notice %s for application %s refused: %s", notice.kind, notice.application_id, error
                    )
                    raise NotificationRejectedError(
                        f"webhook refused notice {notice.kind} of application {notice.application_id}: {error}"
                    )
        await self._mark(notice, tries, delivered=False, error=error)
        log.warning(
            "notice %s for application %s not delivered after %d attempts: %s",
            notice.kind,
            notice.application_id,
            tries,
            error,
        )
        raise NotificationDeliveryError(
            f"webhook did not take notice {notice.kind} of application {notice.application_id}: {error}"
        )

    async def _mark(
        self, notice: Notice, tries: int, *, delivered: bool, error: str | None, rejected: bool = False
    ) -> None:
        async with self.db.unit_of_work() as uow:
            await uow.repo.mark_notice(
                notice.notice_id, tries, delivered=delivered, error=error, rejected=rejected
            )
            await uow.commit()
