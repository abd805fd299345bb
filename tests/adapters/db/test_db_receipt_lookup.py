"""Receipts by application and by public code, with the positions and the refund mark, on both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime

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
