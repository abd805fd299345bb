"""Reminders as a state machine (hypothesis): days pass, households declare, pay, let an
application lapse, renew at an office, and the daily run (sometimes retried, sometimes run twice)
reminds them. Invariants: one reminder per household and expiry date, each with its one notice;
no household due is missed; none is reminded while an application is in progress or for a date
outside the window."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select, update

from activities.reminders import ReminderActivities
from adapters.db import Database, migrate_async
from adapters.db.orm import ApplicationRow, NotificationRow, ParticipantRow, ReminderRow
from domain.reminders import DueQuery, ReminderBatch
from tests.support.households import at, declared, household, load

START = date(2026, 12, 5)
HOUSEHOLDS = ["H-0", "H-1", "H-2"]
WITHIN = 30
_template: Path | None = None


def template() -> Path:
    """One migrated database, copied for every example (migrating each time is the slow part)."""
    global _template
    if _template is None:
        _template = Path(tempfile.mkdtemp()) / "template.db"
        asyncio.run(migrate_async(f"sqlite:///{_template}"))
    return _template


class Reminders(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp())
        shutil.copy(template(), self.folder / "bhyt.db")
        self.db = Database(f"sqlite:///{self.folder / 'bhyt.db'}")
        self.activities = ReminderActivities(self.db, within_days=WITHIN, public_url="http://portal.test")
        self.today = START
        self.cards: dict[str, list[str]] = {}
        self.open: dict[str, str | None] = dict.fromkeys(HOUSEHOLDS)
        self.declared: set[str] = set()
        self.applications = 0
        self.sent: list[tuple[str, date, date]] = []  # household, expiry, day sent
        for i, code in enumerate(HOUSEHOLDS):
            data = household(
                code, 10 * (i + 1), [START + timedelta(days=10 * i + 5), START + timedelta(days=90)]
            )
            self.cards[code] = [p["bhxh_number"] for p in data["participants"]]
            self.data = {**getattr(self, "data", {}), code: data}
            self.run(load(self.db, data))
            # renewed online last year: the household has a declarant
            self.applications += 1
            self.run(
                declared(
                    self.db, f"app-{self.applications}", code, "completed",
                    created_at=at(START - timedelta(days=340)), data=data,
                )
            )  # fmt: skip
            self.declared.add(code)

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    async def _valid_to(self, code: str) -> list[date]:
        async with self.db.unit_of_work(read_only=True) as uow:
            rows = await uow.session.scalars(
                select(ParticipantRow.valid_to).where(ParticipantRow.bhxh_number.in_(self.cards[code]))
            )
            return list(rows)

    async def _extend(self, code: str) -> None:
        """A renewal: every card of the household a year further (from today if it lapsed)."""
        async with self.db.unit_of_work() as uow:
            for number, valid_to in zip(self.cards[code], await self._valid_to(code), strict=True):
                await uow.session.execute(
                    update(ParticipantRow)
                    .where(ParticipantRow.bhxh_number == number)
                    .values(valid_to=max(valid_to, self.today) + timedelta(days=365))
                )
            await uow.commit()

    def due(self, code: str) -> date | None:
        """The model's answer: the expiry a run today must have reminded this household of."""
        if code not in self.declared or self.open[code] is not None:
            return None
        ends = [
            d
            for d in self.run(self._valid_to(code))
            if self.today <= d <= self.today + timedelta(days=WITHIN)
        ]
        return min(ends) if ends else None

    @rule(days=st.integers(min_value=1, max_value=40))
    def days_pass(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule(code=st.sampled_from(HOUSEHOLDS))
    def declare(self, code: str) -> None:
        if self.open[code] is not None:
            return
        self.applications += 1
        application_id = f"app-{self.applications}"
        self.run(
            declared(
                self.db,
                application_id,
                code,
                "awaiting_payment",
                created_at=at(self.today),
                data=self.data[code],
            )
        )
        self.open[code] = application_id
        self.declared.add(code)

    @rule(code=st.sampled_from(HOUSEHOLDS), outcome=st.sampled_from(["completed", "expired", "cancelled"]))
    def application_ends(self, code: str, outcome: str) -> None:
        application_id = self.open[code]
        if application_id is None:
            return

        async def close() -> None:
            async with self.db.unit_of_work() as uow:
                await uow.session.execute(
                    update(ApplicationRow)
                    .where(ApplicationRow.application_id == application_id)
                    .values(status=outcome)
                )
                await uow.commit()

        self.run(close())
        if outcome == "completed":
            self.run(self._extend(code))
        self.open[code] = None

    @rule(code=st.sampled_from(HOUSEHOLDS))
    def renewed_at_an_office(self, code: str) -> None:
        self.run(self._extend(code))

    @rule(runs=st.integers(min_value=1, max_value=3), retried=st.booleans())
    def daily_run(self, runs: int, retried: bool) -> None:
        expected = {code: self.due(code) for code in HOUSEHOLDS}
        busy = {code for code in HOUSEHOLDS if self.open[code] is not None}
        before = self.run(self._reminders())

        async def once() -> None:
            found = await self.activities.find_due_reminders(DueQuery(today=self.today))
            batch = ReminderBatch(today=self.today, reminders=found)
            await self.activities.send_reminders(batch)
            if retried:  # the activity's answer was lost: Temporal runs it again
                await self.activities.send_reminders(batch)

        for _ in range(runs):
            self.run(once())
        after = self.run(self._reminders())
        new = after - before
        for code, expiry in new:
            assert code not in busy, "reminded while an application was in progress"
            assert self.today <= expiry <= self.today + timedelta(days=WITHIN)
            self.sent.append((code, expiry, self.today))
        for code, expiry in expected.items():
            if expiry is not None:
                assert (code, expiry) in after, f"{code} due on {expiry} was not reminded"

    async def _reminders(self) -> set[tuple[str, date]]:
        async with self.db.unit_of_work(read_only=True) as uow:
            rows = await uow.session.execute(select(ReminderRow.household_code, ReminderRow.expires_on))
            return {(h, d) for h, d in rows}

    @invariant()
    def one_notice_per_reminder(self) -> None:
        async def counts() -> tuple[list[tuple[str, date]], list[str]]:
            async with self.db.unit_of_work(read_only=True) as uow:
                reminders = list(
                    await uow.session.execute(select(ReminderRow.household_code, ReminderRow.expires_on))
                )
                kinds = list(
                    await uow.session.scalars(
                        select(NotificationRow.kind).where(NotificationRow.kind.like("reminder:%"))
                    )
                )
            return [(h, d) for h, d in reminders], kinds

        reminders, kinds = self.run(counts())
        assert len(reminders) == len(set(reminders)) == len(kinds)
        assert sorted(f"reminder:{d.isoformat()}" for _, d in reminders) == sorted(kinds)

    @precondition(lambda self: bool(self.sent))
    @invariant()
    def never_twice_for_one_expiry(self) -> None:
        keys = [(code, expiry) for code, expiry, _ in self.sent]
        assert len(keys) == len(set(keys))


Reminders.TestCase.settings = settings(
    max_examples=25, stateful_step_count=20, deadline=None, derandomize=True
)
TestReminders = Reminders.TestCase
