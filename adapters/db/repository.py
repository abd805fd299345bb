"""The data access the activities need: one object over one session, that loads, locks and saves.

It is the sum of small stores, one per thing stored (cosmicpython's `repository.py`):
participants and card reservations (`participants`), household claims (`households`),
applications (`applications`), bank
payments (`payments`), allocations and receipts (`receipts`), reference data (`reference`) and
the notification outbox (`outbox`). Business rules live in `domain/`; step 4's transaction,
and the lock order it keeps, in `adapters.db.allocate`.

A `Repository` never commits: its unit of work does, so the caller decides what one transaction
is. Every statement runs unchanged on SQLite and PostgreSQL (see `adapters.db.sql`).
"""

from __future__ import annotations

from adapters.db.applications import ApplicationStore
from adapters.db.households import HouseholdClaimStore
from adapters.db.outbox import OutboxStore
from adapters.db.participants import ParticipantStore, ReservationStore
from adapters.db.payments import PaymentStore
from adapters.db.receipts import ReceiptStore
from adapters.db.reference import ReferenceStore
from adapters.db.reminders import ReminderStore


class Repository(
    ParticipantStore,
    ReservationStore,
    HouseholdClaimStore,
    ApplicationStore,
    PaymentStore,
    ReceiptStore,
    ReferenceStore,
    OutboxStore,
    ReminderStore,
):
    """All stores over one session; `uow.repo` is one of these."""

    async def close_application(self, application_id: str, status: str) -> None:
        """The final status, and the application's cards and household free for a later one."""
        await self.set_application_status(application_id, status)
        await self.release_cards(application_id)
        await self.release_household(application_id)
