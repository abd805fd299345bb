"""Telling the declarant: an outbox in the BHXH database, delivered per channel by the worker.

The outbox row is written first and is unique per (application, kind, recipient), so a retried
activity or a replayed workflow never notifies twice. The worker's sweep (`retry_pending`) then
gives each new notice one delivery per channel — the portal webhook when configured, email when
the declarant gave an address, SMS when they gave a mobile number — and sends what is due. Each
delivery has its own state and exponential backoff (domain.delivery), so a channel that is down
never holds up another, and notices that keep failing never hold up newer ones.

Delivery is at least once (a crash between sending and recording sends again): the webhook
carries a stable `Idempotency-Key`/`webhook-id`, the email its Message-ID, the SMS a reference.
Log lines name the application, the kind and the channel only: recipients are card numbers,
addresses and messages are personal data.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.db import Database
from adapters.db.outbox import DELIVERED, PENDING, REJECTED, delivery_state
from adapters.db.repository import Repository
from adapters.notice_channels import EMAIL, SMS, WEBHOOK, Channel, DeliveryJob, WebhookChannel
from adapters.webhook_signing import signed_headers
from domain.declarant import Declarant
from domain.delivery import Attempt, Backoff, Outcome, after_attempt


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
"""The notices the procedure sends; `renewed` is about one participant (recipient = card number)
and, like every notice, addressed to the declarant. Reminders (`reminder:<expiry date>`,
domain/reminders.py) are outside the procedure and not listed here."""

CLAIM_LEASE = timedelta(minutes=2)
"""A claimed delivery is not picked by another sweeper for this long (longer than any attempt)."""
PER_CHANNEL_IN_FLIGHT = 8


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
        email: Channel | None = None,
        sms: Channel | None = None,
        retry_base_seconds: float = 5.0,
        retry_max_seconds: float = 3600.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`attempts`/`backoff_seconds`: the immediate tries of `send` (a caller waiting on it);
        `retry_base_seconds`/`retry_max_seconds`: each delivery's backoff between sweeps."""
        self.db = db
        self.webhook_url = webhook_url
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self.backoff = Backoff(retry_base_seconds, retry_max_seconds)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.channels: dict[str, Channel] = {}
        if webhook_url:
            self.channels[WEBHOOK] = WebhookChannel(
                webhook_url, secret=signing_secret, transport=transport, timeout_seconds=timeout_seconds
            )
        if email is not None:
            self.channels[EMAIL] = email
        if sms is not None:
            self.channels[SMS] = sms

    async def record(self, notice: Notice) -> bool:
        """Write the notice to the outbox only (what the activities do); True the first time.

        Delivery is the worker's sweeper (`retry_pending`), so an outage of a channel never
        holds up a run, and money is never waiting on a notice."""
        created, _status = await self._record(notice)
        return created

    async def send(self, notice: Notice) -> bool:
        """Record the notice and deliver it now on every channel; True only the first time.

        Raises NotificationDeliveryError when a configured webhook keeps failing (its caller
        retries; the retry finds the row pending and sends again), NotificationRejectedError
        when it refuses the notice for good."""
        created, status = await self._record(notice)
        if status != PENDING:
            return created
        async with self.db.unit_of_work() as uow:
            declarants = await uow.repo.declarants_of([notice.application_id])
            await self._dispatch(uow.repo, notice, declarants.get(notice.application_id))
            await uow.commit()
        async with self.db.unit_of_work(read_only=True) as uow:
            rows = await uow.repo.deliveries_of_notice(notice.notice_id)
        declarant = declarants.get(notice.application_id)
        failure: Exception | None = None
        for row in rows:
            state = delivery_state(row)
            job = self._job(notice, row.channel, row.address, declarant)
            for attempt_no in range(self.attempts if row.channel == WEBHOOK else 1):
                if state.settled:
                    break
                if attempt_no:
                    await asyncio.sleep(self.backoff_seconds * 2 ** (attempt_no - 1))
                attempt = await self._attempt(job)
                state = after_attempt(state, attempt, self.clock(), self.backoff)
                async with self.db.unit_of_work() as uow:
                    await uow.repo.save_delivery(row.id, notice.notice_id, state)
                    await uow.commit()
            if row.channel == WEBHOOK and state.status == REJECTED:
                failure = NotificationRejectedError(
                    f"webhook refused notice {notice.kind} of application {notice.application_id}: "
                    f"{state.last_error}"
                )
            elif row.channel == WEBHOOK and state.status == PENDING:
                failure = NotificationDeliveryError(
                    f"webhook did not take notice {notice.kind} of application {notice.application_id}: "
                    f"{state.last_error}"
                )
        if failure is not None:
            raise failure
        return created

    async def retry_pending(self, limit: int = 100) -> int:
        """One sweep: give new notices their deliveries, then send every delivery that is due
        (soonest first, each channel on its own); returns how many were delivered."""
        async with self.db.unit_of_work() as uow:
            fresh = await uow.repo.undispatched_notices(limit)
            declarants = await uow.repo.declarants_of([r.application_id for r in fresh])
            for row in fresh:
                notice = Notice(row.application_id, row.kind, row.recipient, row.message, dict(row.payload))
                await self._dispatch(uow.repo, notice, declarants.get(row.application_id))
            claimed = await uow.repo.claim_due_deliveries(self.clock(), limit, CLAIM_LEASE)
            declarants.update(
                await uow.repo.declarants_of(
                    [n.application_id for _d, n in claimed if n.application_id not in declarants]
                )
            )
            jobs = [
                (
                    d.id,
                    delivery_state(d),
                    self._job(
                        Notice(n.application_id, n.kind, n.recipient, n.message, dict(n.payload)),
                        d.channel,
                        d.address,
                        declarants.get(n.application_id),
                    ),
                    d.channel,
                )
                for d, n in claimed
            ]
            await uow.commit()
        if not jobs:
            return 0
        gates = {name: asyncio.Semaphore(PER_CHANNEL_IN_FLIGHT) for name in {j[3] for j in jobs}}

        async def one(job: DeliveryJob, channel: str) -> Attempt:
            async with gates[channel]:
                return await self._attempt(job)

        attempts = await asyncio.gather(*(one(job, channel) for _id, _s, job, channel in jobs))
        delivered = 0
        async with self.db.unit_of_work() as uow:
            for (delivery_id, state, job, _channel), attempt in zip(jobs, attempts, strict=True):
                after = after_attempt(state, attempt, self.clock(), self.backoff)
                if (
                    await uow.repo.save_delivery(delivery_id, job.notice_id, after)
                    and after.status == DELIVERED
                ):
                    delivered += 1
            await uow.commit()
        return delivered

    async def status(self, notice: Notice) -> tuple[str, int] | None:
        """(status, attempts) of a recorded notice, for operators and tests."""
        async with self.db.unit_of_work(read_only=True) as uow:
            return await uow.repo.notice_status(notice.notice_id)

    def channels_for(self, declarant: Declarant | None) -> list[tuple[str, str | None]]:
        """The channels this notice leaves by: the webhook when configured, and the declarant's
        email and mobile number when given and their channel is configured."""
        chosen: list[tuple[str, str | None]] = []
        if WEBHOOK in self.channels:
            chosen.append((WEBHOOK, None))
        if declarant is not None and declarant.email and EMAIL in self.channels:
            chosen.append((EMAIL, declarant.email))
        if declarant is not None and declarant.phone and SMS in self.channels:
            chosen.append((SMS, declarant.phone))
        return chosen

    async def _dispatch(self, repo: Repository, notice: Notice, declarant: Declarant | None) -> None:
        await repo.dispatch_notice(notice.notice_id, self.channels_for(declarant), self.clock())

    @staticmethod
    def _job(notice: Notice, channel: str, address: str | None, declarant: Declarant | None) -> DeliveryJob:
        return DeliveryJob(
            channel=channel,
            notice_id=notice.notice_id,
            application_id=notice.application_id,
            kind=notice.kind,
            recipient=notice.recipient,
            message=notice.message,
            payload=notice.payload,
            address=address,
            addressee=None if declarant is None else declarant.full_name,
        )

    async def _attempt(self, job: DeliveryJob) -> Attempt:
        channel = self.channels.get(job.channel)
        if channel is None:  # configured off since dispatch: kept pending, tried again later
            return Attempt(Outcome.RETRY, "channel not configured")
        try:
            attempt = await channel.deliver(job)
        except Exception as exc:  # noqa: BLE001 - a channel's bug must not stop the sweep
            attempt = Attempt(Outcome.RETRY, f"error: {type(exc).__name__}")
        _log_attempt(job, channel.name, attempt)
        return attempt

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


def _log_attempt(job: DeliveryJob, channel: str, attempt: Attempt) -> None:
    where = (job.kind, job.application_id, channel)
    if attempt.outcome is Outcome.DELIVERED:
        log.info("notice %s for application %s delivered by %s", *where)
    elif attempt.alert:
        log.warning(
            "notice %s for application %s: %s authentication refused (%s); the notice is kept and "
            "retried with backoff: check the channel's credentials",
            *where,
            attempt.error,
        )
    elif attempt.outcome is Outcome.REJECTED:
        log.warning("notice %s for application %s refused by %s: %s", *where, attempt.error)
    else:
        log.info("notice %s for application %s not taken by %s (%s): retried later", *where, attempt.error)
