"""The day's reconciliation over streams: a day of any size in one pass and bounded memory.

`domain.reconciliation.reconcile` holds the whole day (every bank line, every record, every
finding). Here both sides arrive sorted by bank transaction number — the bank's paged statement
and a cursor over our records — and are merged key by key; each key's bank lines and records go
through `reconcile` itself, so the findings are the very same (a bank transaction's finding
depends only on the records with its number), and only the counts, the totals and the lines that
need an operator are kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from domain.reconciliation import BankLine, Finding, Line, RecordedPayment, reconcile

T = TypeVar("T", BankLine, RecordedPayment)


@dataclass
class DayTally:
    """What the operator's report needs from a day: counts by finding, totals, and the lines that
    need attention (few on a normal day; every one of them must be shown)."""

    counts: Counter[Finding] = field(default_factory=Counter)
    attention: list[Line] = field(default_factory=list)
    bank_total: int = 0
    allocated_total: int = 0
    transactions: int = 0
    """Lines reported: one per bank transaction, plus one per allocation the bank does not list."""

    def add(self, lines: list[Line]) -> None:
        for line in lines:
            self.transactions += 1
            self.counts[line.finding] += 1
            self.bank_total += line.bank_amount or 0
            if line.finding in (Finding.MATCHED, Finding.AMOUNT_DIFFERS, Finding.NOT_AT_BANK):
                self.allocated_total += line.our_amount or 0
            if line.finding.needs_attention:
                self.attention.append(line)


class _Groups(Generic[T]):
    """Consecutive items of one sorted stream that share a bank transaction number."""

    def __init__(self, items: AsyncIterable[T]) -> None:
        self._items: AsyncIterator[T] = aiter(items)
        self._next: T | None = None
        self._done = False
        self._last_key: str | None = None

    async def _pull(self) -> None:
        if self._next is None and not self._done:
            try:
                self._next = await anext(self._items)
            except StopAsyncIteration:
                self._done = True
                return
            key = self._next.bank_tran_no
            if self._last_key is not None and key < self._last_key:
                raise ValueError("reconciliation streams must be sorted by bank transaction number")
            self._last_key = key

    async def peek_key(self) -> str | None:
        await self._pull()
        return None if self._next is None else self._next.bank_tran_no

    async def take(self, key: str) -> list[T]:
        group: list[T] = []
        while (await self.peek_key()) == key:
            assert self._next is not None
            group.append(self._next)
            self._next = None
        return group


async def reconcile_streams(
    bank: AsyncIterable[BankLine], ours: AsyncIterable[RecordedPayment]
) -> DayTally:
    """`reconcile` of two streams sorted by bank transaction number, folded into a `DayTally`.

    Raises ValueError when a stream is out of order (a merge would then miss pairs)."""
    tally = DayTally()
    bank_groups, our_groups = _Groups[BankLine](bank), _Groups[RecordedPayment](ours)
    while True:
        bank_key, our_key = await bank_groups.peek_key(), await our_groups.peek_key()
        if bank_key is None and our_key is None:
            return tally
        key = min(k for k in (bank_key, our_key) if k is not None)
        lines = reconcile(await bank_groups.take(key), await our_groups.take(key)).lines
        tally.add(lines)
