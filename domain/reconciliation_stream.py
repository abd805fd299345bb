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
from collections.abc import AsyncIterable, AsyncIterator, Sequence
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
    """Consecutive items of one sorted stream of batches that share a bank transaction number.
    Awaits only when a batch runs out: per item, the merge is plain list indexing."""

    def __init__(self, batches: AsyncIterable[Sequence[T]]) -> None:
        self._batches: AsyncIterator[Sequence[T]] = aiter(batches)
        self._batch: Sequence[T] = ()
        self._at = 0
        self.done = False
        self._last_key: str | None = None

    async def refill(self) -> None:
        """Make the next item available (or mark the stream done) when the batch ran out."""
        while self._at >= len(self._batch) and not self.done:
            try:
                self._batch, self._at = await anext(self._batches), 0
            except StopAsyncIteration:
                self.done = True

    @property
    def exhausted(self) -> bool:
        """No item left in the current batch (call `refill`)."""
        return self._at >= len(self._batch)

    def key(self) -> str | None:
        if self._at >= len(self._batch):
            return None
        key = self._batch[self._at].bank_tran_no
        if self._last_key is not None and key < self._last_key:
            raise ValueError("reconciliation streams must be sorted by bank transaction number")
        self._last_key = key
        return key

    async def take(self, key: str | None) -> list[T]:
        group: list[T] = []
        while key is not None:
            batch, at = self._batch, self._at
            while at < len(batch) and batch[at].bank_tran_no == key:
                group.append(batch[at])
                at += 1
            self._at = at
            if at < len(batch) or self.done:
                break
            await self.refill()  # the group may go on in the next batch
        return group


async def reconcile_streams(
    bank: AsyncIterable[Sequence[BankLine]], ours: AsyncIterable[Sequence[RecordedPayment]]
) -> DayTally:
    """`reconcile` of two streams of batches sorted by bank transaction number (the bank's
    statement pages, our cursor's fetches), folded into a `DayTally`.

    Raises ValueError when a stream is out of order (a merge would then miss pairs)."""
    tally = DayTally()
    bank_groups, our_groups = _Groups[BankLine](bank), _Groups[RecordedPayment](ours)
    while True:
        if bank_groups.exhausted:
            await bank_groups.refill()
        if our_groups.exhausted:
            await our_groups.refill()
        bank_key, our_key = bank_groups.key(), our_groups.key()
        if bank_key is None and our_key is None:
            return tally
        key = bank_key if our_key is None or (bank_key is not None and bank_key <= our_key) else our_key
        bank_group = await bank_groups.take(key) if bank_key == key else []
        our_group = await our_groups.take(key) if our_key == key else []
        tally.add(reconcile(bank_group, our_group).lines)
