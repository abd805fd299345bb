"""The delivery of one notice on one channel, as a state machine (issue 21 finding 5, issue 22).

Each (notice, channel) pair is `pending` until the channel takes it (`delivered`) or refuses it
for good (`rejected`: a malformed notice, an address that does not exist). Every failed attempt
that may succeed later — the channel down, overloaded, or refusing our credentials (401/403, an
operator must look, but the notice must not be lost) — schedules the next attempt after an
exponential backoff of its own, so one failing notice or channel never holds up another.

Pure: the clock is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

PENDING = "pending"
DELIVERED = "delivered"
REJECTED = "rejected"

Shown = Literal["pending", "retrying", "delivered", "rejected"]


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    """Not taken this time; it may be taken later (outage, overload, credentials refused)."""
    REJECTED = "rejected"
    """Refused for good: sending the same notice again cannot succeed."""


@dataclass(frozen=True)
class Attempt:
    """What one attempt on a channel gave; `error` is a code (HTTP 503, SMTP 550, ConnectError),
    never a message from the other side (it may quote the address)."""

    outcome: Outcome
    error: str | None = None
    alert: bool = False
    """An operator should look now (our credentials refused): logged as such, still retried."""


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 5.0
    max_seconds: float = 3600.0

    def after(self, failed_attempts: int) -> timedelta:
        """Wait before the next attempt once `failed_attempts` (≥ 1) have failed: base · 2^(n-1), capped."""
        exponent = min(max(failed_attempts - 1, 0), 32)
        return timedelta(seconds=min(self.base_seconds * 2**exponent, self.max_seconds))


@dataclass(frozen=True)
class DeliveryState:
    status: str
    attempts: int
    failures: int
    next_attempt_at: datetime
    delivered_at: datetime | None = None
    last_error: str | None = None

    @property
    def settled(self) -> bool:
        return self.status != PENDING

    def due(self, now: datetime) -> bool:
        return self.status == PENDING and self.next_attempt_at <= now

    @property
    def shown(self) -> Shown:
        """What the portal reads: a pending delivery that has failed at least once is retrying."""
        if self.status == PENDING:
            return "retrying" if self.failures else "pending"
        return "delivered" if self.status == DELIVERED else "rejected"


def new_delivery(now: datetime) -> DeliveryState:
    return DeliveryState(status=PENDING, attempts=0, failures=0, next_attempt_at=now)


def after_attempt(state: DeliveryState, attempt: Attempt, now: datetime, backoff: Backoff) -> DeliveryState:
    """The state once an attempt is known. A settled delivery never changes again: a second
    'delivered' (a duplicate sweep) records nothing, so delivery is recorded at most once."""
    if state.settled:
        return state
    attempts = state.attempts + 1
    if attempt.outcome is Outcome.DELIVERED:
        return DeliveryState(
            DELIVERED, attempts, state.failures, state.next_attempt_at, now, state.last_error
        )
    if attempt.outcome is Outcome.REJECTED:
        return DeliveryState(
            REJECTED, attempts, state.failures + 1, state.next_attempt_at, None, attempt.error
        )
    failures = state.failures + 1
    return DeliveryState(PENDING, attempts, failures, now + backoff.after(failures), None, attempt.error)


def notice_shown(channels: list[Shown]) -> Shown:
    """One notice over its channels: delivered once every channel took it; retrying or pending
    while any channel still tries; rejected when all are settled and one refused it. A notice
    with no channel (no webhook, no contact) waits in the outbox: pending."""
    if not channels:
        return "pending"
    if all(c == DELIVERED for c in channels):
        return "delivered"
    if "retrying" in channels:
        return "retrying"
    if "pending" in channels:
        return "pending"
    return "rejected"
