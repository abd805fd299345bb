"""Receipts by application and by public code, with the positions and the refund mark, on both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import text

from adapters.db import make_engine, migrate_async
from adapters.db.orm import ReceiptRow
from adapters.db.receipt_lookup import mark_receipt_refunded, receipt_by_application, receipt_by_public_code
from tests.support.receipts import SIX_MEMBERS, issue_six_member_receipt


async def test_allocation_draws_a_long_random_public_code_found_again_by_it(db):
    code = await issue_six_member_receipt(db, "app-lookup-1")
    assert re.fullmatch(r"[A-Z2-7]{32}", code)  # 160 bits
    async with db.unit_of_work(read_only=True) as uow:
        by_code = await receipt_by_public_code(uow, code)
        by_app = await receipt_by_application(uow, "app-lookup-1")
        unknown = await receipt_by_public_code(uow, "A" * 32)
    assert by_code is not None and by_code == by_app
    assert unknown is None
    assert by_code.application_id == "app-lookup-1"
    assert [line.full_name for line in by_code.receipt.lines] == [name for _c, name, _a in SIX_MEMBERS]
    assert by_code.positions == {n: n for n in range(1, 7)}
    assert by_code.refunded is False
    assert code != by_code.receipt.verification_code


async def test_a_refund_marks_the_receipt_once(db):
    await issue_six_member_receipt(db, "app-lookup-3")
    first = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    async with db.unit_of_work() as uow:
        assert await mark_receipt_refunded(uow, "app-lookup-3", first)
        assert await mark_receipt_refunded(uow, "app-lookup-3", datetime(2026, 3, 6, tzinfo=UTC))
        assert not await mark_receipt_refunded(uow, "no-such-application", first)
        await uow.commit()
    async with db.unit_of_work(read_only=True) as uow:
        stored = await receipt_by_application(uow, "app-lookup-3")
        refunded_at = await uow.session.scalar(
            ReceiptRow.__table__.select().with_only_columns(ReceiptRow.refunded_at)
        )
    assert stored is not None and stored.refunded
    assert refunded_at == first


async def test_migration_gives_receipts_issued_before_it_their_own_public_code(fresh_url_factory):
    url = await fresh_url_factory()
    await migrate_async(url, "0001")
    engine = make_engine(url)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO bank_payments (id, bank_tran_no, transaction_no, txn_ref, amount, bank_code,"
                    " pay_date, response_code, transaction_status, is_paid, outcome, raw, duplicate_count,"
                    " received_at, last_seen_at) VALUES (1, 'B1', 'T1', 'R1', 100, 'NCB', :now, '00', '00',"
                    " true, 'confirmed', '{}', 0, :now, :now)"
                ),
                {"now": now},
            )
            for n in (1, 2):
                await conn.execute(
                    text(
                        "INSERT INTO receipts (application_id, payment_id, series, year, number, issued_on,"
                        " payer_name, total, total_in_words, txn_ref, bank_tran_no, verification_code)"
                        " VALUES (:app, 1, 'BH26', 2026, :n, :day, 'A', 100, 'một trăm đồng', 'R1', 'B1', :vc)"
                    ),
                    {"app": f"old-{n}", "n": n, "day": now.date(), "vc": f"VC{n}"},
                )
        await migrate_async(url)
        async with engine.connect() as conn:
            codes = (
                (await conn.execute(text("SELECT public_code FROM receipts ORDER BY number"))).scalars().all()
            )
    finally:
        await engine.dispose()
    assert len(codes) == 2 and codes[0] != codes[1]
    assert all(re.fullmatch(r"[A-Z2-7]{32}", code) for code in codes)
