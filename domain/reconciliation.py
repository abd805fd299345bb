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

from domain.models import OPEN_STATUSES, ApplicationStatus


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
    REFUND_PENDING = "refund_pending"
    """Money not allocated; the bank is processing its refund (a long-pending one is listed apart)."""
    AMBIGUOUS = "ambiguous"
    """A statement line that matches two of our records, or one of two lines matching one record:
    reported, never merged."""
    NOT_RECEIVED = "not_received"
    """Settled at the bank, but no callback reached us."""
    AMOUNT_DIFFERS = "amount_differs"
    """Allocated, but the bank settled another amount."""
    NOT_AT_BANK = "not_at_bank"
    """We allocated a payment the bank's statement does not list."""

    @property
    def needs_attention(self) -> bool:
        return self not in (Finding.MATCHED, Finding.IN_PROGRESS, Finding.REFUNDED, Finding.REFUND_PENDING)


@dataclass(frozen=True)
class BankLine:
    bank_tran_no: str
    txn_ref: str
    amount: int
    transaction_no: str = ""
    """vnp_TransactionNo, where the bank gives it."""
    bank_code: str = ""


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
    transaction_no: str = ""
    bank_code: str = ""
    refund_pending: bool = False
    """The bank is processing a refund of this transaction."""


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


def unallocated_finding(status: str | None, *, refunded: bool, refund_pending: bool = False) -> Finding:
    """What a paid transaction that is not allocated to its application is, by the invariant."""
    if refunded:
        return Finding.REFUNDED
    if refund_pending:
        return Finding.REFUND_PENDING
    if status in OPEN_STATUSES:
        return Finding.IN_PROGRESS
    if status == ApplicationStatus.PAYMENT_REVIEW:
        return Finding.REVIEW
    return Finding.REFUND_DUE


def same_transaction(line: BankLine, mine: RecordedPayment) -> bool:
    """The one matching rule: the transaction's identity. vnp_TransactionNo where both sides have
    it; otherwise bank code (where both give one) + bank transaction number + order reference.
    vnp_BankTranNo alone is not unique: each bank numbers its own transfers.

    The bank transaction number is always part of the match, so a day can be grouped by it (the
    streaming twin merges both sides in its order) and each group matched by this rule."""
    if line.bank_tran_no != mine.bank_tran_no:
        return False
    if line.transaction_no and mine.transaction_no:
        return line.transaction_no == mine.transaction_no
    if line.bank_code and mine.bank_code and line.bank_code != mine.bank_code:
        return False
    return line.txn_ref == mine.txn_ref


def reconcile(bank: Sequence[BankLine], ours: Sequence[RecordedPayment]) -> Report:
    """One line per bank transaction of the day, plus one per allocation (or refund) of ours the
    bank does not list. A line and a record pair up only when each matches the other alone; a
    line matching two records, or a record matched by two lines, is reported `ambiguous`."""
    groups: dict[str, list[int]] = {}
    for j, record in enumerate(ours):
        groups.setdefault(record.bank_tran_no, []).append(j)
    matches = [[j for j in groups.get(tx.bank_tran_no, ()) if same_transaction(tx, ours[j])] for tx in bank]
    lines_of: dict[int, int] = {}
    for found in matches:
        for j in found:
            lines_of[j] = lines_of.get(j, 0) + 1
    lines = []
    for tx, found in zip(bank, matches, strict=True):
        if len(found) > 1 or (found and lines_of[found[0]] > 1):
            lines.append(Line(Finding.AMBIGUOUS, tx.bank_tran_no, tx.txn_ref, tx.amount, None))
            continue
        mine: RecordedPayment | None = ours[found[0]] if found else None
        if mine is None:
            finding = Finding.NOT_RECEIVED
        elif not mine.allocated:
            finding = unallocated_finding(
                mine.application_status, refunded=mine.refunded, refund_pending=mine.refund_pending
            )
        elif mine.amount != tx.amount:
            finding = Finding.AMOUNT_DIFFERS
        else:
            finding = Finding.MATCHED
        lines.append(Line(finding, tx.bank_tran_no, tx.txn_ref, tx.amount, mine.amount if mine else None))
    for j, unmatched in enumerate(ours):
        if j in lines_of:
            continue
        if unmatched.allocated:
            lines.append(
                Line(Finding.NOT_AT_BANK, unmatched.bank_tran_no, unmatched.txn_ref, None, unmatched.amount)
            )
        elif unmatched.refunded:
            lines.append(
                Line(Finding.REFUNDED, unmatched.bank_tran_no, unmatched.txn_ref, None, unmatched.amount)
            )
    return Report(lines)
