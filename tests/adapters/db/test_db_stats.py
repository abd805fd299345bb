"""The figures BHXH reports, per day or month of declaration (issue 22, finding 4: the stats had
no period and no channel), computed by SQL on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import event

from adapters.db.orm import AllocationRow, ApplicationRow, BankPaymentRow
from adapters.db.stats import period_figures
from tests.adapters.db.db_builders import OFFICE_A, OFFICE_B, participant
from tests.support.households import load

_ids = count(1)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return (
        datetime(2026, 12, day, hour, minute, tzinfo=UTC)
        if day > 0
        else datetime(2026, 11, 30 + day, hour, minute, tzinfo=UTC)
    )


async def application(
    db, app_id, created, status, channel, province, *, paid_after=None, amount=0, refunded=False, cards=()
):  # type: ignore[no-untyped-def]
    async with db.unit_of_work() as uow:
        uow.session.add(
            ApplicationRow(
                application_id=app_id, status=status, household_code=f"H-{app_id}", province_code=province,
                member_count=max(1, len(cards)), txn_ref=f"T-{app_id}", amount=amount, channel=channel,
                created_at=created, updated_at=created,
            )
        )  # fmt: skip
        if paid_after is not None or not cards:
            for paid, pay_date in ((False, created + timedelta(seconds=5)), (True, None)):
                if paid and paid_after is None:
                    continue
                n = next(_ids)
                row = BankPaymentRow(
                    payment_key=f"K{n}", bank_tran_no=f"B{n}", transaction_no=f"N{n}", txn_ref=f"T-{app_id}",
                    application_id=app_id, amount=amount if paid else 999, bank_code="NCB",
                    pay_date=pay_date or created + timedelta(seconds=paid_after), response_code="00" if paid else "24",
                    transaction_status="00" if paid else "02", is_paid=paid, outcome="confirmed" if paid else "failed",
                    raw={}, duplicate_count=0, received_at=created, last_seen_at=created,
                    refund_status="refunded" if paid and refunded else None,
                )  # fmt: skip
                uow.session.add(row)
                await uow.session.flush()
                for line_no, (bhxh, office) in enumerate(cards if paid else ()):
                    uow.session.add(
                        AllocationRow(
                            application_id=app_id, payment_id=row.id, line_no=line_no, bhxh_number=bhxh,
                            card_number=f"GD401{bhxh}", office_code=office, position=line_no + 1, months=12,
                            amount=amount // len(cards), old_valid_to=None, valid_from=date(2027, 1, 1),
                            valid_to=date(2027, 12, 31),
                        )
                    )  # fmt: skip
        await uow.commit()


@pytest.fixture
async def seeded(db):  # type: ignore[no-untyped-def]
    people = [participant(n, office=OFFICE_A if n < 3 else OFFICE_B) for n in range(1, 4)]
    await load(db, {"participants": people})
    a, b, c = (p["bhxh_number"] for p in people)
    # 23:59 on 30/11 in Vietnam: before the range
    await application(db, "A0", utc(0, 16, 59), "completed", "portal", "01", paid_after=10, amount=7)
    # 01:00 on 1/12 in Vietnam (18:00 UTC the day before): the first day
    await application(
        db, "A1", utc(0, 18), "completed", "portal", "01", paid_after=600, amount=1_000_000,
        cards=[(a, OFFICE_A), (b, OFFICE_A)],
    )  # fmt: skip
    await application(
        db,
        "A2",
        utc(1, 10),
        "completed",
        "office",
        "79",
        paid_after=1800,
        amount=500_000,
        cards=[(c, OFFICE_B)],
    )
    await application(db, "A3", utc(1, 12), "expired", "vssid", "01")
    await application(db, "A6", utc(1, 13), "completed", "portal", "01", paid_after=60, amount=100_000)
    # 00:30 on 2/12 in Vietnam (17:30 UTC on 1/12)
    await application(
        db,
        "A4",
        utc(1, 17, 30),
        "cancelled",
        "national_portal",
        None,
        paid_after=3600,
        amount=300_000,
        refunded=True,
    )
    await application(db, "A7", utc(2, 10), "allocating", "portal", "01", paid_after=7200, amount=200_000)
    # 00:00 on 3/12 in Vietnam: after a range ending on 2/12
    await application(db, "A5", utc(2, 17), "completed", "portal", "01", paid_after=100, amount=50_000)
    return db


async def test_figures_per_day_of_declaration_in_vietnam_time(seeded):
    async with seeded.unit_of_work(read_only=True) as uow:
        figures = await period_figures(uow.session, date(2026, 12, 1), date(2026, 12, 2), "day")

    first, second = figures.periods
    assert first.period == "2026-12-01" and second.period == "2026-12-02"
    assert first.applications == 4
    assert first.by_status == {"completed": 3, "expired": 1}
    assert first.by_channel == {"portal": 2, "office": 1, "vssid": 1}
    assert first.by_province == {"01": 3, "79": 1}
    assert first.renewed_by_office == {OFFICE_A: 2, OFFICE_B: 1}
    assert first.members_renewed == 3
    assert (first.collected, first.refunded) == (1_600_000, 0)  # the failed attempt of A3 is not money
    assert (first.completed, first.completed_online, first.share_completed_online) == (3, 2, 0.6667)
    assert first.median_seconds_to_payment == 600.0  # of 60, 600, 1800

    assert second.applications == 2
    assert second.by_status == {"cancelled": 1, "allocating": 1}
    assert second.by_channel == {"national_portal": 1, "portal": 1}
    assert second.by_province == {"--": 1, "01": 1}
    assert (second.members_renewed, second.renewed_by_office) == (0, {})
    assert (second.collected, second.refunded) == (500_000, 300_000)
    assert (second.completed, second.share_completed_online) == (0, None)
    assert second.median_seconds_to_payment == 5400.0  # of 3600 and 7200


async def test_figures_per_month(seeded):
    async with seeded.unit_of_work(read_only=True) as uow:
        figures = await period_figures(uow.session, date(2026, 12, 1), date(2026, 12, 31), "month")
    [month] = figures.periods
    assert month.period == "2026-12" and month.applications == 7
    assert month.median_seconds_to_payment == 1200.0  # of 60, 100, 600, 1800, 3600, 7200
    assert month.collected == 1_600_000 + 500_000 + 50_000
    assert (month.completed, month.completed_online) == (4, 3)


async def test_an_empty_range_has_no_period(seeded):
    async with seeded.unit_of_work(read_only=True) as uow:
        figures = await period_figures(uow.session, date(2027, 1, 1), date(2027, 1, 31), "day")
    assert figures.periods == []


async def test_no_row_reaches_python_only_one_per_period_and_category(seeded):
    """Aggregates only: the statements return grouped rows, never the applications themselves."""
    returned = []

    def count_rows(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        returned.append(statement)

    engine = seeded.engine.sync_engine
    event.listen(engine, "after_cursor_execute", count_rows)
    try:
        async with seeded.unit_of_work(read_only=True) as uow:
            await period_figures(uow.session, date(2026, 12, 1), date(2026, 12, 2), "day")
    finally:
        event.remove(engine, "after_cursor_execute", count_rows)
    selects = [s for s in returned if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 6 and all("GROUP BY" in s.upper() for s in selects)
