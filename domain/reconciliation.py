"""The day's reconciliation: the bank's statement of settled transactions against our records.

Callbacks can be lost, late or wrong, and money can arrive for an application that has
already closed. Comparing the bank's own statement with what we recorded and allocated finds
every such case, so no payment is left unseen: each bank transaction ends in one finding.

The invariant it reports by (README, operator section): every bank transaction with money is,
at every moment, exactly one of
  - allocated once to its application (`matched`; `amount_differs`/`not_at_bank` are alarms);
  - being processed by an open run (`in_progress`: the application is verifying, awaiting
    payment or allocating, which is bounded);
  - waiting for an operator (`payment_review`);
  - owed back: `refund_due`, or `refunded` once the bank confirmed the refund.
So any paid transaction that is not the one allocated to its application, and whose
application is no longer open or in review, is `refund_due` — whatever the final status
(completed included: a second payment, or a wrong-amount transfer followed by the right one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Finding(StrEnum):
    MATCHED = "matched"
    """Settled at the bank, allocated by us, same amount."""
    IN_PROGRESS = "in_progress"
    """Callback received, the application is still being allocated."""
    REVIEW = "payment_review"
    """Callback received, an operator must decide (amount or record mismatch)."""
    REFUND_DUE = "refund_due"
    """Money not allocated to its application, which has closed (whatever its status): owed back."""
    REFUNDED = "refunded"
    """Money not allocated, and returned to the payer through the bank."""
    NOT_RECEIVED = "not_received"
    """Settled at the bank, but no callback reached us."""
    AMOUNT_DIFFERS = "amount_differs"
    """Allocated, but the bank settled another amount."""
    NOT_AT_BANK = "not_at_bank"
    """We allocated a payment the bank's statement does not list."""

    @property
    def needs_attention(self) -> bool:
        return self not in (Finding.MATCHED, Finding.IN_PROGRESS, Finding.REFUNDED)


@dataclass(frozen=True)
class BankLine:
    bank_tran_no: str
    txn_ref: str
    amount: int


@dataclass(frozen=True)
class RecordedPayment:
    bank_tran_no: str
    txn_ref: str
    amount: int
    allocated: bool
    """This transaction is the one allocated to its application."""
    application_status: str | None
    refunded: bool = False
    """The bank confirmed a full refund of this transaction."""


@dataclass(frozen=True)
class Line:
    finding: Finding
    bank_tran_no: str
    txn_ref: str
    bank_amount: int | None
    our_amount: int | None


@dataclass(frozen=True)
class Report:
    lines: list[Line] = field(default_factory=list)

    @property
    def counts(self) -> Counter[Finding]:
        return Counter(line.finding for line in self.lines)

    @property
    def attention(self) -> list[Line]:
        return [line for line in self.lines if line.finding.needs_attention]

    @property
    def bank_total(self) -> int:
        return sum(line.bank_amount or 0 for line in self.lines)

    @property
    def allocated_total(self) -> int:
        return sum(
            line.our_amount or 0
            for line in self.lines
            if line.finding in (Finding.MATCHED, Finding.AMOUNT_DIFFERS, Finding.NOT_AT_BANK)
        )


OPEN_STATUSES = frozenset({"verifying", "awaiting_payment", "allocating"})
"""An open run is still deciding about the money (for a bounded time)."""
REVIEW_STATUS = "payment_review"


def unallocated_finding(status: str | None, *, refunded: bool) -> Finding:
    """What a paid transaction that is not allocated to its application is, by the invariant."""
    if refunded:
        return Finding.REFUNDED
    if status in OPEN_STATUSES:
        return Finding.IN_PROGRESS
    if status == REVIEW_STATUS:
        return Finding.REVIEW
    return Finding.REFUND_DUE


def reconcile(bank: Sequence[BankLine], ours: Sequence[RecordedPayment]) -> Report:
    """One line per bank transaction of the day, plus one per allocation the bank does not list."""
    recorded = {p.bank_tran_no: p for p in ours}
    lines = []
    for tx in bank:
        mine = recorded.pop(tx.bank_tran_no, None)
        if mine is None:
            finding = Finding.NOT_RECEIVED
        elif not mine.allocated:
            finding = unallocated_finding(mine.application_status, refunded=mine.refunded)
        elif mine.amount != tx.amount:
            finding = Finding.AMOUNT_DIFFERS
        else:
            finding = Finding.MATCHED
        lines.append(Line(finding, tx.bank_tran_no, tx.txn_ref, tx.amount, mine.amount if mine else None))
    for mine in recorded.values():
        if mine.allocated:
            lines.append(Line(Finding.NOT_AT_BANK, mine.bank_tran_no, mine.txn_ref, None, mine.amount))
        elif mine.refunded:
            lines.append(Line(Finding.REFUNDED, mine.bank_tran_no, mine.txn_ref, None, mine.amount))
    return Report(lines)
