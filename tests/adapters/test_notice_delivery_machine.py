"""The notice delivery state machine, by invariants over generated sequences (hypothesis).

Notices for declarants with an email and a mobile number go out by webhook, email and SMS; the
channels go up, down, refuse our credentials (401/403) or refuse a notice for good, the clock
moves, and the sweeper runs, in any order. After every step:

- a delivery is recorded delivered at most once (its delivered_at never changes), and a settled
  delivery never changes state again;
- every delivery recorded delivered was taken by its channel, and nothing was sent on a channel
  after it was recorded delivered there;
- a failing delivery waits base · 2^(n-1) (capped) after its n-th failure: the backoff grows;
- a failing channel never blocks another: after a sweep, no delivery that was due on a working
  channel is left pending.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from adapters.db import ApplicationRecord, Database, migrate_async
from adapters.db.orm import NoticeDeliveryRow
from adapters.notice_channels import DeliveryJob
from adapters.notifications import Notice, Notifier
from domain.delivery import Attempt, Backoff, Outcome
from domain.models import Declaration
from tests.support.portal import declaration, person

CHANNELS = ("webhook", "email", "sms")
MODES = {
    "up": Attempt(Outcome.DELIVERED),
    "down": Attempt(Outcome.RETRY, "HTTP 503"),
    "auth": Attempt(Outcome.RETRY, "HTTP 401", alert=True),
    "refuse": Attempt(Outcome.REJECTED, "HTTP 422"),
}
BASE, CAP = 4.0, 60.0


@dataclass
class FakeChannel:
    name: str
    mode: str = "up"
    calls: list[tuple[str, datetime]] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    clock: object = None

    async def deliver(self, job: DeliveryJob) -> Attempt:
        self.calls.append((job.notice_id, self.clock()))  # type: ignore[misc]
        attempt = MODES[self.mode]
        if attempt.outcome is Outcome.DELIVERED:
            self.taken.add(job.notice_id)
        return attempt


class DeliveryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.TemporaryDirectory()
        self.now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
        self.fakes = {name: FakeChannel(name, clock=lambda: self.now) for name in CHANNELS}
        self.delivered_at: dict[tuple[str, str], datetime] = {}
        self.settled: dict[tuple[str, str], str] = {}
        self.notices = 0

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    @initialize()
    def start(self) -> None:
        url = f"sqlite:///{Path(self.tmp.name) / 'machine.db'}"
        self.run(migrate_async(url))
        self.db = Database(url)
        self.notifier = Notifier(
            self.db,
            None,
            email=self.fakes["email"],
            sms=self.fakes["sms"],
            retry_base_seconds=BASE,
            retry_max_seconds=CAP,
            clock=lambda: self.now,
        )
        self.notifier.channels["webhook"] = self.fakes["webhook"]  # the portal, faked like the others

    def teardown(self) -> None:
        if hasattr(self, "db"):
            self.run(self.db.dispose())
        self.loop.close()
        self.tmp.cleanup()

    async def _declare_and_notify(self) -> None:
        application_id = str(uuid.uuid4())
        body = declaration(person(0, relationship="chủ hộ"))
        body["declarant"] = {
            "full_name": "Nguyễn Thị Mai",
            "personal_id": "001190012399",
            "relationship": "con dâu",
            "phone": "0912345678",
            "email": "mai@example.vn",
        }
        async with self.db.unit_of_work() as uow:
            await uow.repo.save_application(
                ApplicationRecord(
                    application_id=application_id,
                    status="awaiting_payment",
                    declaration=Declaration.model_validate(body),
                    created_at=self.now,
                    updated_at=self.now,
                )
            )
            await uow.commit()
        await self.notifier.record(
            Notice(application_id, "payment_due", "declarant", "Số tiền phải đóng", {})
        )

    @precondition(lambda self: self.notices < 12)
    @rule()
    def declare(self) -> None:
        self.run(self._declare_and_notify())
        self.notices += 1

    @rule(channel=st.sampled_from(CHANNELS), mode=st.sampled_from(sorted(MODES)))
    def set_mode(self, channel: str, mode: str) -> None:
        self.fakes[channel].mode = mode

    @rule(seconds=st.sampled_from([1, 4, 8, 30, 120]))
    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule()
    def sweep(self) -> None:
        working = {name for name, fake in self.fakes.items() if fake.mode == "up"}
        self.run(self.notifier.retry_pending())
        for row in self.rows():
            if row.channel in working:
                assert not (row.status == "pending" and row.attempts == 0), "a due delivery was left"
                assert row.status != "pending" or row.next_attempt_at > self.now, (
                    f"{row.channel} was working but a due delivery stayed pending"
                )

    @rule()
    def wait_for_the_next_attempt_and_sweep(self) -> None:
        waiting = [r.next_attempt_at for r in self.rows() if r.status == "pending"]
        if waiting:
            self.now = max(self.now, min(waiting))
        self.sweep()

    def rows(self) -> list[NoticeDeliveryRow]:
        async def read() -> list[NoticeDeliveryRow]:
            async with self.db.unit_of_work(read_only=True) as uow:
                return list(await uow.session.scalars(select(NoticeDeliveryRow)))

        return self.run(read())

    @invariant()
    def delivered_at_most_once_and_settled_for_good(self) -> None:
        if not hasattr(self, "db"):
            return
        for row in self.rows():
            key = (row.notice_id, row.channel)
            if key in self.settled:
                assert row.status == self.settled[key], "a settled delivery changed"
            if row.status != "pending":
                self.settled[key] = row.status
            if row.status == "delivered":
                assert row.delivered_at is not None
                first = self.delivered_at.setdefault(key, row.delivered_at)
                assert row.delivered_at == first, "delivered recorded twice"
                fake = self.fakes[row.channel]
                assert row.notice_id in fake.taken
                sends_after = [t for n, t in fake.calls if n == row.notice_id and t > row.delivered_at]
                assert not sends_after, "sent again after it was recorded delivered"

    @invariant()
    def backoff_grows(self) -> None:
        if not hasattr(self, "db"):
            return
        backoff = Backoff(BASE, CAP)
        for row in self.rows():
            if row.status != "pending" or row.attempts == 0:
                continue
            calls = [t for n, t in self.fakes[row.channel].calls if n == row.notice_id]
            assert len(calls) == row.attempts
            assert row.next_attempt_at == calls[-1] + backoff.after(row.attempts)


DeliveryMachine.TestCase.settings = settings(
    max_examples=15, stateful_step_count=20, derandomize=True, deadline=None
)
TestDeliveryMachine = DeliveryMachine.TestCase
