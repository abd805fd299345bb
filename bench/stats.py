"""Time of the period figures (`starter.py stats --from … --to …`, `GET /api/v1/stats`) over
100,000 applications, on SQLite and on PostgreSQL.

Seeds a year of declarations (2026): channels portal/vssid/national_portal/office, 60 % completed
with a paid transaction and two cards renewed each (by four offices), some expired, cancelled
(5 % of the paid refunded), the rest in progress; then times the figures three ways — a month by
day, the year by day, the year by month — best and median of 5 runs each. Setup is not timed.
PostgreSQL: BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test; a throwaway
database is created and dropped. Run: `.venv/bin/python -m bench.stats [N] [--database sqlite|postgresql]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from adapters.db import Database, migrate_async
from adapters.db.orm import AllocationRow, ApplicationRow, BankPaymentRow, ParticipantRow
from adapters.db.stats import period_figures

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
CHANNELS = ["portal"] * 5 + ["vssid"] * 2 + ["national_portal"] * 2 + ["office"]
OFFICES = ["BHXH-HN-BD", "BHXH-HN-CG", "BHXH-HCM-Q1", "BHXH-HCM-Q3"]
PEOPLE = 2_000
CHUNK = 5_000
RUNS = 5
QUERIES = [
    ("a month by day", date(2026, 6, 1), date(2026, 6, 30), "day"),
    ("the year by day", date(2026, 1, 1), date(2026, 12, 31), "day"),
    ("the year by month", date(2026, 1, 1), date(2026, 12, 31), "month"),
]


def rows(count: int) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    rnd = random.Random(22)
    now = datetime.now(UTC)
    people = [
        {
            "bhxh_number": f"79{n:08d}", "card_number": f"GD479{n:010d}", "personal_id": f"0790{n:08d}",
            "full_name": f"Người Tham Gia {n}", "date_of_birth": date(1985, 1, 1), "gender": "female",
            "group_code": "GD", "province_code": "79", "office_code": OFFICES[n % 4],
            "valid_from": date(2026, 1, 1), "valid_to": date(2026, 12, 31), "updated_at": now,
        }
        for n in range(PEOPLE)
    ]  # fmt: skip
    applications, payments, allocations = [], [], []
    for n in range(count):
        created = YEAR_START + timedelta(seconds=rnd.randrange(365 * 86400))
        roll = rnd.random()
        status = (
            "completed" if roll < 0.6 else "expired" if roll < 0.75 else "cancelled" if roll < 0.85
            else "rejected" if roll < 0.9 else "awaiting_payment"
        )  # fmt: skip
        app_id = f"bench-{n}"
        applications.append(
            {
                "application_id": app_id, "status": status, "household_code": f"HH-{n % 40_000}",
                "province_code": rnd.choice(["01", "79", "48", "31"]), "member_count": 2,
                "txn_ref": f"T{n}", "amount": 1_500_000, "channel": rnd.choice(CHANNELS),
                "created_at": created, "updated_at": created,
            }
        )  # fmt: skip
        if status == "completed" or (status == "cancelled" and rnd.random() < 0.3):
            paid_at = created + timedelta(seconds=rnd.randrange(60, 20 * 3600))
            pid = len(payments) + 1
            payments.append(
                {
                    "id": pid, "payment_key": f"K{n}", "bank_tran_no": f"B{n}", "transaction_no": f"N{n}",
                    "txn_ref": f"T{n}", "application_id": app_id, "amount": 1_500_000, "bank_code": "NCB",
                    "pay_date": paid_at, "response_code": "00", "transaction_status": "00", "is_paid": True,
                    "outcome": "confirmed", "raw": {}, "duplicate_count": 0, "received_at": paid_at,
                    "last_seen_at": paid_at,
                    "refund_status": "refunded" if status == "cancelled" and rnd.random() < 0.5 else None,
                }
            )  # fmt: skip
            if status == "completed":
                for line in range(2):
                    person = people[(2 * n + line) % PEOPLE]
                    allocations.append(
                        {
                            "application_id": app_id, "payment_id": pid, "line_no": line,
                            "bhxh_number": person["bhxh_number"], "card_number": person["card_number"],
                            "office_code": person["office_code"], "position": line + 1, "months": 12,
                            "amount": 750_000, "old_valid_to": None, "valid_from": date(2027, 1, 1),
                            "valid_to": date(2027, 12, 31),
                        }
                    )  # fmt: skip
    return people, applications, payments, allocations


async def seed(db: Database, count: int) -> str:
    people, applications, payments, allocations = rows(count)
    async with db.unit_of_work() as uow:
        for entity, batch in (
            (ParticipantRow, people),
            (ApplicationRow, applications),
            (BankPaymentRow, payments),
            (AllocationRow, allocations),
        ):
            for start in range(0, len(batch), CHUNK):
                await uow.session.execute(insert(entity), batch[start : start + CHUNK])
        await uow.commit()
    if db.dialect == "postgresql":
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
    return (
        f"{len(applications):,} applications, {len(payments):,} payments, {len(allocations):,} cards renewed"
    )


async def measure(url: str, count: int) -> None:
    await migrate_async(url)
    db = Database(url)
    try:
        started = time.perf_counter()
        what = await seed(db, count)
        print(f"  seeded {what} in {time.perf_counter() - started:.1f} s (not timed)")
        for label, start, end, by in QUERIES:
            times, periods = [], 0
            for _ in range(RUNS):
                t0 = time.perf_counter()
                async with db.unit_of_work(read_only=True) as uow:
                    figures = await period_figures(uow.session, start, end, by)  # type: ignore[arg-type]
                times.append(time.perf_counter() - t0)
                periods = len(figures.periods)
            print(
                f"  {label:<18} {periods:>3} periods: best {min(times) * 1000:7.0f} ms, "
                f"median {statistics.median(times) * 1000:7.0f} ms"
            )
    finally:
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("count", nargs="?", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    print(f"period figures over {args.count:,} applications (nproc {os.cpu_count()})")
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            print("SQLite")
            await measure(f"sqlite:///{folder}/bench.db", args.count)
    if args.database in ("postgresql", "both"):
        admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
        try:
            admin = await asyncpg.connect(admin_url.replace("+asyncpg", ""), timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            print(f"PostgreSQL skipped: {type(exc).__name__}")
            return
        name = f"bench_stats_{uuid.uuid4().hex[:8]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            print("PostgreSQL")
            await measure(
                make_url(admin_url).set(database=name).render_as_string(hide_password=False), args.count
            )
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
