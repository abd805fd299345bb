"""The money of one application and the operator's decision on it, as one state machine (issue 19).

The workflow feeds the ledger what happens (events: a payment heard, the bank's answers, the
operator's decision, a cancel, the deadline, the records' answers) and runs what `advance()`
asks for next (commands), one at a time; it keeps no money state of its own. Everything a run
decides about money is here, so it can be checked against every order of events
(tests/domain/test_ledger_stateful.py), not only the orders someone wrote down.

The invariant (README, operator section): each paid transaction is exactly one of allocated (at
most one per application), refunded, refund in process at the bank, refund due (an operator
acts), under review, or processing — and a transaction is processing only while it waits in
the queue of payments to check, or is the one chosen for step 4, so it leaves that state within
a bounded number of commands. A decision is always answered: applied, or overtaken (never left
waiting). The run ends (`Finish`) only once the records are closed, nothing is processing, every
refund owed was sent to the bank and every decision answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeVar

from domain.allocation import payment_mismatch
from domain.models import CLOSED_UNPAID_STATUSES, ApplicationStatus, PaymentReceived
from domain.payments import PaymentOutcome, PaymentState, ReviewDecision, outcome_of, transaction_key

_C = TypeVar("_C")
RefundAnswer = Literal["refunded", "in_process", "rejected", "allocated"]


# ---- commands: what the run does next ----------------------------------------------------------


@dataclass(frozen=True)
class CheckWithBank:
    """Step 4's bank check of a payment that matches the order (reconcile_payment)."""

    payment: PaymentReceived


@dataclass(frozen=True)
class RecordReview:
    """Write the payment-review status with its notice (on entering review only)."""

    reason: str


@dataclass(frozen=True)
class Allocate:
    payment: PaymentReceived


@dataclass(frozen=True)
class ReadAllocation:
    """Before a refund_and_cancel after step 4 was tried: its answer may have been lost."""


@dataclass(frozen=True)
class SettleAtBank:
    """Ask the bank what it took for the order (querydr, and the void where the bank has one)."""


@dataclass(frozen=True)
class Close:
    """Close the application unpaid (rejected, cancelled, expired) and tell the declarant."""

    status: ApplicationStatus


@dataclass(frozen=True)
class Complete:
    """Step 5: tell the participants and close the application as completed."""


@dataclass(frozen=True)
class Refund:
    payment: PaymentReceived
    reason: str


@dataclass(frozen=True)
class Wait:
    """Nothing to do until an event; `deadline`: the payment deadline applies."""

    deadline: bool


@dataclass(frozen=True)
class Finish:
    """The run may end."""


Command = (
    CheckWithBank
    | RecordReview
    | Allocate
    | ReadAllocation
    | SettleAtBank
    | Close
    | Complete
    | Refund
    | Wait
    | Finish
)


@dataclass
class Entry:
    payment: PaymentReceived
    state: PaymentState
    reason: str | None = None
    refund_sent: bool = False


@dataclass(frozen=True)
class Answer:
    """The answer to an operator's decision: applied, or overtaken (with why, codes only)."""

    applied: bool
    message: str


@dataclass
class Ledger:
    status: ApplicationStatus = ApplicationStatus.VERIFYING
    txn_ref: str | None = None
    total: int | None = None
    entries: dict[str, Entry] = field(default_factory=dict)
    queue: list[str] = field(default_factory=list)
    """Payments heard while the application takes money, not yet checked (oldest first)."""
    chosen: str | None = None
    """The transaction step 4 allocates (or allocated)."""
    accepting: bool = True
    cancel_requested: bool = False
    deadline_passed: bool = False
    settle_for: ApplicationStatus | None = None
    """The status the application closes with once the bank answered (cancelled, expired)."""
    allocation_tried: bool = False
    allocation_read: bool = False
    review_to_record: str | None = None
    review_reason: str | None = None
    """Why the application went to review last (codes and amounts only)."""
    pending: tuple[int, ReviewDecision] | None = None
    """A decision received, not yet acted on."""
    applying: int | None = None
    """A refund_and_cancel being carried out (re-read, bank, close)."""
    answers: dict[int, Answer] = field(default_factory=dict)
    decisions: int = 0
    records_closed: bool = False
    running: Command | None = None
    version: int = 0
    """Bumped by every event: the run waits for it to change."""

    # ---- events ---------------------------------------------------------------------------------

    def order_opened(self, txn_ref: str, total: int) -> None:
        self.txn_ref, self.total = txn_ref, total
        self.status = ApplicationStatus.AWAITING_PAYMENT
        self.version += 1

    def ended_before_order(self, status: ApplicationStatus) -> None:
        """Rejected, or cancelled during verification: closed with no order at the bank."""
        self._stop_accepting(f"application {status.value}")
        self.status = status
        self.version += 1

    def heard(self, payment: PaymentReceived) -> bool:
        """A paid transaction (the bank's callback, or querydr); False for one already known."""
        key = transaction_key(payment)
        if key in self.entries:
            return False
        if self.accepting:
            self.entries[key] = Entry(payment, PaymentState.PROCESSING)
            self.queue.append(key)
        else:
            self.entries[key] = Entry(payment, PaymentState.REFUND_DUE, f"application {self.status.value}")
        self.version += 1
        return True

    def cancel(self) -> bool:
        """The declarant's cancel: acts only before money was accepted (a review is decided by
        the operator). False when ignored."""
        acts = self.status.is_cancellable
        if acts and self.accepting and self.settle_for is None:
            self.cancel_requested = True
            self.version += 1
            return True
        return False

    def deadline(self) -> None:
        self.deadline_passed = True
        self.version += 1

    def refusal(self, decision: ReviewDecision) -> str | None:
        """Why a decision cannot be taken now (names the field, echoes no value), else None."""
        if self.status != ApplicationStatus.PAYMENT_REVIEW:
            return f"status: the application is {self.status.value}, not in payment review"
        if self.pending is not None or self.applying is not None:
            return "decision: another decision is being carried out"
        if decision.action == "accept":
            entry = self.entries.get(decision.transaction or "")
            if entry is None:
                return "transaction: no paid transaction with this number for the application"
            if entry.payment.amount != self.total:
                return "transaction: its amount differs from the quote; refund_and_cancel instead"
            if entry.state in (PaymentState.REFUNDED, PaymentState.REFUND_PENDING) or entry.refund_sent:
                return "transaction: already refunded"
        return None

    def decide(self, decision: ReviewDecision) -> int:
        """The operator's decision (validated by `refusal`); its answer comes later (`answer`)."""
        self.decisions += 1
        self.pending = (self.decisions, decision)
        self.version += 1
        return self.decisions

    def answer(self, decision_id: int) -> Answer | None:
        """The decision's answer once the application left review (the update returns then)."""
        if self.status == ApplicationStatus.PAYMENT_REVIEW:
            return None
        return self.answers.get(decision_id)

    def checked(self, reason: str | None) -> None:
        """The bank's check of the queue's first payment: None when it may be allocated."""
        command = self._answering(CheckWithBank)
        key = transaction_key(command.payment)
        self.queue.remove(key)
        if reason is None and self.accepting:
            self._choose(key, applied=None)
        elif reason is None:  # the application stopped taking money meanwhile
            self._refund_due(key, f"application {self.status.value}")
        else:
            self._review(key, reason)

    def review_recorded(self) -> None:
        self._answering(RecordReview)
        self.review_to_record = None

    def allocated(self) -> None:
        self._answering(Allocate)
        assert self.chosen is not None
        self.entries[self.chosen].state = PaymentState.ALLOCATED
        self.entries[self.chosen].reason = None
        self.status = ApplicationStatus.COMPLETED

    def allocation_refused(self, reason: str) -> None:
        """The records refused step 4: an operator decides (accept it or another, or refund)."""
        self._answering(Allocate)
        assert self.chosen is not None
        key, self.chosen = self.chosen, None
        self.allocation_tried = True
        self.allocation_read = False
        self._review(key, f"allocation_refused: {reason}")

    def allocation_found(self, transaction: str | None) -> None:
        """The re-read before a refund_and_cancel: an allocation that did commit completes."""
        self._answering(ReadAllocation)
        self.allocation_read = True
        if transaction is None:
            return
        assert self.applying is not None
        decision_id, self.applying = self.applying, None
        if transaction in self.entries:
            self.chosen = transaction
            self.entries[transaction].state = PaymentState.ALLOCATED
        self._leave_review(f"the allocation of transaction {transaction} had committed")
        self.status = ApplicationStatus.COMPLETED
        self.answers[decision_id] = Answer(
            False,
            f"overtaken: the allocation of transaction {transaction} had committed; the application completes",
        )

    def bank_settled(self, found: list[PaymentReceived]) -> None:
        """What the bank took for the order (querydr): each is heard like a callback."""
        self._answering(SettleAtBank)
        for payment in found:
            self.heard(payment)
        if self.settle_for == ApplicationStatus.EXPIRED and self.queue:
            self.settle_for = None  # a payment at the deadline: checked like any other
            return
        status, self.settle_for = self.settle_for, None
        assert status is not None
        self._stop_accepting(f"application {status.value}")
        self._leave_review(f"application {status.value}")
        self.status = status
        if self.applying is not None:
            self.answers[self.applying] = Answer(True, f"applied: application {status.value}")
            self.applying = None

    def records_done(self) -> None:
        """The application is closed in the records (Close or Complete answered)."""
        assert isinstance(self.running, Close | Complete), self.running
        self.running = None
        self.records_closed = True
        self.version += 1

    def refunded(self, answer: RefundAnswer, detail: str) -> None:
        command = self._answering(Refund)
        entry = self.entries[transaction_key(command.payment)]
        entry.refund_sent = True
        if answer == "refunded":
            entry.state, entry.reason = PaymentState.REFUNDED, detail
        elif answer == "in_process":
            entry.state, entry.reason = PaymentState.REFUND_PENDING, detail
        elif answer == "allocated" and not any(
            e.state == PaymentState.ALLOCATED for e in self.entries.values()
        ):
            entry.state, entry.reason = PaymentState.ALLOCATED, "allocated in the records"
        else:  # refused by the bank, or allocated twice in the records: an operator acts
            entry.state, entry.reason = PaymentState.REFUND_DUE, detail

    # ---- the next command -----------------------------------------------------------------------

    def advance(self) -> Command:
        """Acts on what was received (decision, cancel, deadline) and says what the run does next.
        An action is answered by its event before `advance` is called again."""
        assert self.running is None, f"{self.running} not answered"
        command = self._next()
        if not isinstance(command, Wait | Finish):
            self.running = command
        return command

    def _next(self) -> Command:
        if self.records_closed:
            owed = next(
                (
                    e
                    for e in self.entries.values()
                    if e.state == PaymentState.REFUND_DUE and not e.refund_sent
                ),
                None,
            )
            if owed is not None:
                return Refund(owed.payment, self.status.value)
            return Finish()
        if self.status == ApplicationStatus.COMPLETED:
            return Complete()
        if self.status in CLOSED_UNPAID_STATUSES:
            return Close(self.status)
        if self.review_to_record is not None:
            return RecordReview(self.review_to_record)
        if self.status == ApplicationStatus.ALLOCATING:
            assert self.chosen is not None
            return Allocate(self.entries[self.chosen].payment)
        if self.status == ApplicationStatus.PAYMENT_REVIEW:
            return self._in_review()
        if self.status == ApplicationStatus.AWAITING_PAYMENT:
            return self._awaiting()
        return Wait(deadline=False)  # verifying: the run's steps 1–2 are not the ledger's

    def _in_review(self) -> Command:
        if self.applying is not None:  # refund_and_cancel: re-read step 4, ask the bank, close
            if self.allocation_tried and not self.allocation_read:
                return ReadAllocation()
            return SettleAtBank()
        if self.pending is not None:
            decision_id, decision = self.pending
            self.pending = None
            self.version += 1
            if decision.action == "accept":
                entry = self.entries.get(decision.transaction or "")
                if entry is not None and entry.state in (PaymentState.UNDER_REVIEW, PaymentState.REFUND_DUE):
                    if not entry.refund_sent:
                        self._choose(transaction_key(entry.payment), applied=decision_id)
                        return self._next()
                self.answers[decision_id] = Answer(
                    False, "overtaken: the transaction can no longer be allocated"
                )
                return self._next()
            self.applying = decision_id
            self._stop_accepting("refund_and_cancel")
            self.settle_for = ApplicationStatus.CANCELLED
            return self._next()
        return self._check_queue() or Wait(deadline=False)

    def _awaiting(self) -> Command:
        if self.settle_for is not None:
            return SettleAtBank()
        checking = self._check_queue()
        if checking is not None:
            return checking
        if self.status != ApplicationStatus.AWAITING_PAYMENT:  # a mismatch sent it to review
            return self._next()
        if self.cancel_requested:
            self.cancel_requested = False
            self._stop_accepting("application cancelled")
            self.settle_for = ApplicationStatus.CANCELLED
            return SettleAtBank()
        if self.deadline_passed:
            self.settle_for = ApplicationStatus.EXPIRED
            return SettleAtBank()
        return Wait(deadline=True)

    def _check_queue(self) -> Command | None:
        """The first payment to check: a mismatch with the order goes to review at once (no bank
        call); a match is checked with the bank."""
        while self.queue:
            key = self.queue[0]
            payment = self.entries[key].payment
            mismatch = payment_mismatch(payment, txn_ref=self.txn_ref, amount=self.total)
            if mismatch is None:
                return CheckWithBank(payment)
            self.queue.pop(0)
            self._review(key, mismatch.reason)
            self.version += 1
            if self.review_to_record is not None:
                return RecordReview(self.review_to_record)
        return None

    # ---- transitions ----------------------------------------------------------------------------

    def _answering(self, kind: type[_C]) -> _C:
        command = self.running
        assert isinstance(command, kind), f"answer to {kind.__name__} while running {command}"
        self.running = None
        self.version += 1
        return command

    def _choose(self, key: str, *, applied: int | None) -> None:
        """`key` is the payment step 4 allocates: no other payment is taken from now on, the
        others are refunded, and a decision not yet acted on is overtaken."""
        self.chosen = key
        self.entries[key].state, self.entries[key].reason = PaymentState.PROCESSING, None
        self.cancel_requested = False
        self._stop_accepting(f"transaction {key} allocated instead")
        others = self._leave_review(f"transaction {key} allocated instead")
        if applied is not None:
            self.answers[applied] = Answer(True, f"applied: transaction {key} is being allocated")
        if self.pending is not None:
            decision_id, self.pending = self.pending[0], None
            refunded = ", ".join(others) or "nothing"
            self.answers[decision_id] = Answer(
                False,
                f"overtaken: the application took transaction {key} before this decision was applied; "
                f"refunded: {refunded}",
            )
        self.status = ApplicationStatus.ALLOCATING

    def _review(self, key: str, reason: str) -> None:
        self.entries[key].state, self.entries[key].reason = PaymentState.UNDER_REVIEW, reason
        self.review_reason = reason
        if self.status != ApplicationStatus.PAYMENT_REVIEW:
            self.review_to_record = reason
        self.status = ApplicationStatus.PAYMENT_REVIEW
        self.cancel_requested = False  # a cancel never decides a review: the operator does

    def _leave_review(self, why: str) -> list[str]:
        """Every transaction under review is owed back; returns their keys."""
        owed = [
            k for k, e in self.entries.items() if e.state == PaymentState.UNDER_REVIEW and k != self.chosen
        ]
        for key in owed:
            self._refund_due(key, why)
        return owed

    def _stop_accepting(self, why: str) -> None:
        self.accepting = False
        for key in self.queue:
            self._refund_due(key, why)
        self.queue.clear()

    def _refund_due(self, key: str, why: str) -> None:
        self.entries[key].state, self.entries[key].reason = PaymentState.REFUND_DUE, why

    # ---- what callers see -------------------------------------------------------------------------

    def outcomes(self) -> list[PaymentOutcome]:
        return [outcome_of(e.payment, e.state, e.reason) for e in self.entries.values()]

    def state_of(self, transaction: str) -> PaymentState | None:
        entry = self.entries.get(transaction)
        return None if entry is None else entry.state
