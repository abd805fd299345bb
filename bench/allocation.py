"""Time to allocate 1,000 household applications (step 4), on SQLite and on PostgreSQL.

Each application pays for a 3-member household (3 cards, 2 offices), so one allocation writes
~17 rows. Measured: sequential (one allocation after another) and concurrent (N in flight,
as a busy worker would run them). Setup (participants, applications, reservations) is not
timed. PostgreSQL: BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test; a
throwaway database is created and dropped. Run: `.venv/bin/python -m bench.allocation [N]`.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url

from adapters.db import AllocationRequest, ApplicationRecord, Database, migrate_async
from adapters.db.allocate import allocate
from domain.models import PaymentReceived, QuoteLine

MEMBERS = 3
CONCURRENCY = 20
PAY_DATE = date(2026, 3, 2)
MONTHLY = (105_300, 73_710, 63_180)


def _participant(n: int) -> dict:
    bhxh = f"79{n:08d}"
    return {
        "personal_id": f"0790{n:08d}",
        "bhxh_number": bhxh,
        "card_number": f"GD479{bhxh}",
        "full_name": f"Người Tham Gia {n}",
        "date_of_birth": "1985-01-01",
        "gender": "female",
        "group": "GD",
        "province_code": "79",
        "office_code": "BHXH-HCM-Q1" if n % 2 else "BHXH-HCM-Q3",
        "valid_from": "2025-04-01",
        "valid_to": "2026-03-31",
    }


async def _prepare(db: Database, prefix: str, count: int, first: int) -> list[AllocationRequest]:
    requests = []
    people = [_participant(first + i) for i in range(count * MEMBERS)]
    async with db.unit_of_work() as uow:
        await uow.repo.load_reference_data({"participants": people})
        for a in range(count):
            application_id = f"{prefix}-{a:05d}"
            members = people[a * MEMBERS : (a + 1) * MEMBERS]
            lines = [
                QuoteLine(
                    card_number=p["card_number"],
                    bhxh_number=p["bhxh_number"],
                    member_name=p["full_name"],
                    position=i + 1,
                    base_salary=2_340_000,
                    rate_percent="4.5",
                    monthly_amount=MONTHLY[i],
                    months=12,
                    amount=MONTHLY[i] * 12,
                    valid_from=date(2026, 4, 1),
                    valid_to=date(2027, 3, 31),
                    office_code=p["office_code"],
                    province_code="79",
                )
                for i, p in enumerate(members)
            ]
            total = sum(x.amount for x in lines)
            txn_ref = f"B{prefix}{a:05d}"
            await uow.repo.save_application(
                ApplicationRecord(
                    application_id=application_id,
                    status="allocating",
                    household_code=f"HCM-{prefix}-{a:05d}",
                    member_count=MEMBERS,
                    txn_ref=txn_ref,
                    amount=total,
                )
            )
            await uow.repo.reserve_cards(application_id, [p["bhxh_number"] for p in members])
            requests.append(
                AllocationRequest(
                    application_id=application_id,
                    household_code=f"HCM-{prefix}-{a:05d}",
                    payer_name="Chủ Hộ",
                    series="BH26",
                    payment=PaymentReceived(
                        txn_ref=txn_ref,
                        amount=total,
                        bank_code="NCB",
                        bank_tran_no=f"VNP{prefix}{a:07d}",
                        transaction_no=f"{a:08d}",
                        pay_date=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
                        response_code="00",
                        transaction_status="00",
                    ),
                    payment_date=PAY_DATE,
                    lines=lines,
                )
            )
        await uow.commit()
    return requests


class StatementCounter:
    """SQL statements sent to the database (each one a round trip, and on PostgreSQL a network
    one): how many one allocation costs, by kind."""

    def __init__(self, db: Database) -> None:
        self.kinds: Counter[str] = Counter()
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        words = statement.split()
        self.kinds[words[0].upper() if words else "?"] += 1

    def line(self, allocations: int) -> str:
        total = sum(self.kinds.values())
        kinds = ", ".join(f"{k} {v / allocations:.1f}" for k, v in self.kinds.most_common())
        return f"  statements per allocation  {total / allocations:.1f}  ({kinds})"


async def _sequential(db: Database, requests: list[AllocationRequest]) -> tuple[float, list[float]]:
    latencies = []
    start = time.perf_counter()
    for request in requests:
        t0 = time.perf_counter()
        await allocate(db, request)
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - start, latencies


async def _concurrent(db: Database, requests: list[AllocationRequest]) -> tuple[float, list[float]]:
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []

    async def one(request: AllocationRequest) -> int:
        async with gate:
            t0 = time.perf_counter()
            result = await allocate(db, request)
            latencies.append(time.perf_counter() - t0)
            return result.receipt.number

    start = time.perf_counter()
    numbers = await asyncio.gather(*(one(r) for r in requests))
    elapsed = time.perf_counter() - start
    first = min(numbers)
    assert sorted(numbers) == list(range(first, first + len(requests))), "receipt numbers must be consecutive"
    return elapsed, latencies


def _report(label: str, count: int, elapsed: float, latencies: list[float]) -> None:
    cut = statistics.quantiles(latencies, n=100)
    print(
        f"  {label:<26} {count} applications in {elapsed:6.2f} s  "
        f"= {count / elapsed:7.1f} /s   p50 {cut[49] * 1000:6.1f} ms  p99 {cut[98] * 1000:6.1f} ms"
    )


async def _bench(name: str, url: str, count: int) -> None:
    await migrate_async(url)
    pool = {"pool_size": CONCURRENCY, "max_overflow": 0} if name == "PostgreSQL" else {}
    from adapters.db import make_engine

    db = Database(engine=make_engine(url, **pool))
    try:
        sequential = await _prepare(db, "s", count, 0)
        concurrent = await _prepare(db, "c", count, count * MEMBERS)
        print(f"{name} ({MEMBERS} cards per application)")
        counter = StatementCounter(db)
        elapsed, lat = await _sequential(db, sequential)
        _report("sequential", count, elapsed, lat)
        print(counter.line(count))
        elapsed, lat = await _concurrent(db, concurrent)
        _report(f"concurrent ({CONCURRENCY} in flight)", count, elapsed, lat)
    finally:
        await db.dispose()


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await _bench("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", count)

    admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        admin = await asyncpg.connect(admin_url.replace("+asyncpg", ""), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL: skipped, server unreachable ({type(exc).__name__}); set BENCH_POSTGRES_URL")
        return
    name = f"bhyt_bench_{uuid.uuid4().hex[:10]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        await _bench("PostgreSQL", url, count)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
