"""What step 4 and the day's reconciliation cost the database, counted (issue 12), not timed.

Round trips are counted with SQLAlchemy's cursor events: each statement is one, and on
PostgreSQL a network one. The counts are properties of the code, so they can be tested; how
long the statements take is for the benchmarks (bench/allocation.py prints both).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from adapters.db.allocate import allocate
from adapters.db.orm import BankPaymentRow
from tests.adapters.db.db_builders import OFFICE_A, OFFICE_B, line, participant, payment
from tests.adapters.db.test_db_allocation import _prepare

MAX_STATEMENTS_PER_ALLOCATION = 17
"""BEGIN (SQLite), the application, the idempotency read, the cards, the payment (insert + lock +
mark), the cards' new validity, contributions, history, allocations, revenue, the application's
status, the reservations, the receipt counter, the receipt and its lines: one statement each,
whatever the household's size."""


class Statements:
    def __init__(self, db) -> None:
        self.kinds: Counter[str] = Counter()
        self._engine = db.engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement: str, *_args) -> None:
        self.kinds[statement.split()[0].upper()] += 1

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._seen)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


async def _allocation_statements(db, application_id: str, size: int, first: int) -> Counter[str]:
    members = [participant(first + i, office=OFFICE_B if i % 2 else OFFICE_A) for i in range(size)]
    lines = [line(m, position=i + 1) for i, m in enumerate(members)]
    request = await _prepare(db, application_id, members, lines)
    statements = Statements(db)
    try:
        await allocate(db, request)
    finally:
        statements.close()
    return statements.kinds


async def test_one_allocation_takes_a_fixed_number_of_statements_whatever_the_household(db):
    await _allocation_statements(db, "A-RT-1", 1, 1)  # the year's first receipt also creates its counter
    three = await _allocation_statements(db, "A-RT-3", 3, 2)
    five = await _allocation_statements(db, "A-RT-5", 5, 10)
    assert sum(three.values()) <= MAX_STATEMENTS_PER_ALLOCATION, three
    assert three == five, "statements must not grow with the number of cards"


async def test_the_days_payments_stream_in_bank_transaction_order_through_the_pay_date_index(db):
    day = datetime(2026, 3, 2, tzinfo=UTC)
    async with db.unit_of_work() as uow:
        for n, tran in enumerate(["VNP3", "VNP10", "VNP2", "VNP1"]):
            p = payment(f"T-ST-{n}", 100_000 + n, tran).model_copy(
                update={"pay_date": day + timedelta(hours=n)}
            )
            await uow.repo.record_bank_callback(p.txn_ref, p, {"n": str(n)}, "confirmed")
        other_day = payment("T-ST-x", 1, "VNP0").model_copy(update={"pay_date": day - timedelta(days=1)})
        await uow.repo.record_bank_callback(other_day.txn_ref, other_day, {}, "confirmed")
        await uow.commit()
    async with db.unit_of_work(read_only=True) as uow:
        streamed = [
            p async for batch in uow.repo.stream_paid_callbacks(day, day + timedelta(days=1)) for p in batch
        ]
        listed = await uow.repo.paid_callbacks_between(day, day + timedelta(days=1))
    assert [p.bank_tran_no for p in streamed] == ["VNP1", "VNP10", "VNP2", "VNP3"]  # as Python sorts
    assert sorted(streamed, key=lambda p: p.bank_tran_no) == sorted(listed, key=lambda p: p.bank_tran_no)
    assert BankPaymentRow.__table__.c.pay_date.index, "the day's range is read through an index"
