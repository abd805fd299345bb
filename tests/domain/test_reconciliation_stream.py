"""The streamed reconciliation finds exactly what the whole-day one finds, in one pass."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

import pytest

from domain.reconciliation import BankLine, Finding, RecordedPayment, reconcile
from domain.reconciliation_stream import reconcile_streams

T = TypeVar("T")
STATUSES = [None, "completed", "awaiting_payment", "allocating", "payment_review", "expired", "cancelled"]


async def stream(items: Iterable[T], size: int = 3) -> AsyncIterator[list[T]]:
    """In batches, as the bank's pages and the database cursor deliver them (a number's records
    may straddle two batches)."""
    items = list(items)
    for start in range(0, len(items), size):
        await asyncio.sleep(0)
        yield items[start : start + size]


def a_day(rng: random.Random, size: int) -> tuple[list[BankLine], list[RecordedPayment]]:
    """Bank lines and our records with every case: matched, missing on either side, amounts that
    differ, unallocated in any status, and numbers repeated on both sides."""
    bank, ours = [], []
    for n in range(size):
        key = f"VNP{rng.randrange(size * 2)}"  # repeats happen
        amount = rng.choice([100_000, 200_000, 300_000])
        if rng.random() < 0.85:
            bank.append(BankLine(key, f"R{n}", amount))
        if rng.random() < 0.85:
            ours.append(
                RecordedPayment(
                    bank_tran_no=key,
                    txn_ref=f"R{n}",
                    amount=amount if rng.random() < 0.9 else amount + 1,
                    allocated=rng.random() < 0.7,
                    application_status=rng.choice(STATUSES),
                    refunded=rng.random() < 0.15,
                )
            )
    return bank, ours


@pytest.mark.parametrize("seed", range(25))
async def test_streamed_findings_are_the_whole_days_findings(seed: int) -> None:
    rng = random.Random(seed)
    bank, ours = a_day(rng, rng.randrange(0, 60))
    whole = reconcile(bank, ours)

    by_key = sorted(bank, key=lambda b: b.bank_tran_no), sorted(ours, key=lambda p: p.bank_tran_no)
    tally = await reconcile_streams(
        stream(by_key[0], rng.randrange(1, 6)), stream(by_key[1], rng.randrange(1, 6))
    )

    assert tally.counts == whole.counts
    assert tally.transactions == len(whole.lines)
    assert tally.bank_total == whole.bank_total
    assert tally.allocated_total == whole.allocated_total
    key = lambda line: (line.finding, line.bank_tran_no, line.txn_ref, line.bank_amount, line.our_amount)  # noqa: E731
    assert sorted(tally.attention, key=key) == sorted(whole.attention, key=key)


async def test_every_finding_is_kept_apart() -> None:
    bank = [BankLine("1", "A", 5), BankLine("2", "B", 5), BankLine("3", "C", 5)]
    ours = [
        RecordedPayment("1", "A", 5, allocated=True, application_status="completed"),
        RecordedPayment("3", "C", 5, allocated=False, application_status="expired"),
        RecordedPayment("4", "D", 7, allocated=True, application_status="completed"),
    ]
    tally = await reconcile_streams(stream(bank), stream(ours))
    assert tally.counts == reconcile(bank, ours).counts
    assert tally.counts[Finding.MATCHED] == 1 and tally.counts[Finding.NOT_RECEIVED] == 1
    assert tally.counts[Finding.NOT_AT_BANK] == 1
    assert [line.bank_tran_no for line in tally.attention] == ["2", "3", "4"]


async def test_a_stream_out_of_order_is_refused_rather_than_merged_wrongly() -> None:
    bank = [BankLine("2", "B", 5), BankLine("1", "A", 5)]
    with pytest.raises(ValueError, match="sorted"):
        await reconcile_streams(stream(bank), stream([]))
