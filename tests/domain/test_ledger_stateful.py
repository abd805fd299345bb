"""The ledger (domain/ledger.py) against every order of events: hypothesis' RuleBasedStateMachine.

Any sequence of payments heard (duplicates, wrong amounts, wrong order), cancels, deadlines and
operator decisions, interleaved with any answer the bank and the records may give to the
command being run — with the invariants of issue 19 checked after every step:

- each paid transaction is exactly one of allocated (at most one per application), refunded,
  refund in process, refund due, under review (only while the application is in review), or
  processing — and processing only while it waits in the queue to be checked or is the one chosen
  for step 4 (so it leaves that state within a bounded number of commands);
- no decision is left unanswered once the application left review;
- the run may end (`Finish`) only with the records closed, nothing processing or under review,
  every refund owed sent to the bank, and every decision answered;
- from any state, with the outside world answering, the run reaches `Finish` within a bound
  proportional to the number of transactions (liveness).

Derandomized in `make test` (same examples every run); `LEDGER_LONG=1` runs a long search.
The closing line of the run (tests/domain/conftest.py) says how many examples and steps ran.
"""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.ledger import (
    Allocate,
    CheckWithBank,
    Close,
    Complete,
    Finish,
    Ledger,
    ReadAllocation,
    RecordReview,
    Refund,
    SettleAtBank,
    Wait,
)
from domain.models import ApplicationStatus, PaymentReceived
from domain.payments import PaymentState, ReviewDecision

TXN_REF = "BHYT0001"
TOTAL = 2_732_400
LONG = os.environ.get("LEDGER_LONG") == "1"
STATS = {"examples": 0, "steps": 0}
"""Read by tests/domain/conftest.py for the closing line."""


def payment(number: int, amount: int = TOTAL, txn_ref: str = TXN_REF) -> PaymentReceived:
    return PaymentReceived(
        txn_ref=txn_ref,
        amount=amount,
        bank_code="NCB",
        bank_tran_no=f"VNP{number}",
        transaction_no=str(14000000 + number),
        pay_date=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        response_code="00",
        transaction_status="00",
    )


payments = st.builds(
    payment,
    st.integers(1, 4),
    st.sampled_from([TOTAL, TOTAL, 1_000]),
    st.sampled_from([TXN_REF, TXN_REF, TXN_REF, "OTHER"]),
)


def drive_to_finish(ledger: Ledger) -> Ledger:
    """The outside world answering every command the plain way; the operator refunds and cancels
    a review. Fails if the run does not reach Finish within the bound."""
    bound = 30 + 8 * (len(ledger.entries) + 1)
    if ledger.running is not None:
        answer(ledger, ledger.running, plain=True)
    if ledger.status == ApplicationStatus.VERIFYING:
        ledger.order_opened(TXN_REF, TOTAL)
    for _ in range(bound):
        command = ledger.advance()
        if isinstance(command, Finish):
            return ledger
        if isinstance(command, Wait):
            if command.deadline:
                ledger.deadline()
            elif ledger.refusal(ReviewDecision(action="refund_and_cancel")) is None:
                ledger.decide(ReviewDecision(action="refund_and_cancel"))
            continue
        answer(ledger, command, plain=True)
    raise AssertionError(f"no Finish within {bound} commands: {ledger}")


def answer(
    ledger: Ledger, command: object, *, plain: bool, choice: int = 0, found: PaymentReceived | None = None
) -> None:
    """Answer the running command: `plain` the ordinary answer, else the one `choice` picks."""
    pick = 0 if plain else choice
    if isinstance(command, CheckWithBank):
        ledger.checked(None if pick % 2 == 0 else "bank_transaction_mismatch")
    elif isinstance(command, RecordReview):
        ledger.review_recorded()
    elif isinstance(command, Allocate):
        ledger.allocated() if pick % 2 == 0 else ledger.allocation_refused("records refused")
    elif isinstance(command, ReadAllocation):
        refused = [k for k, e in ledger.entries.items() if (e.reason or "").startswith("allocation_refused")]
        ledger.allocation_found(refused[0] if refused and pick % 2 == 1 else None)
    elif isinstance(command, SettleAtBank):
        ledger.bank_settled([found] if found is not None and not plain else [])
    elif isinstance(command, Close | Complete):
        ledger.records_done()
    elif isinstance(command, Refund):
        ledger.refunded(("refunded", "in_process", "rejected", "allocated")[pick % 4], "bank answer")
    else:
        raise AssertionError(command)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        self.decisions: list[int] = []
        self.finished = False
        STATS["examples"] += 1

    def _step(self) -> None:
        STATS["steps"] += 1

    @initialize(opened=st.booleans())
    def start(self, opened: bool) -> None:
        if opened:
            self.ledger.order_opened(TXN_REF, TOTAL)

    # ---- the outside world: any time ---------------------------------------------------------

    @rule(p=payments)
    def hear(self, p: PaymentReceived) -> None:
        self._step()
        self.ledger.heard(p)

    @rule()
    def cancel(self) -> None:
        self._step()
        self.ledger.cancel()

    @rule()
    def deadline(self) -> None:
        self._step()
        self.ledger.deadline()

    @rule(action=st.sampled_from(["accept", "refund_and_cancel"]), number=st.integers(1, 4))
    def decide(self, action: str, number: int) -> None:
        self._step()
        decision = ReviewDecision(
            action=action, transaction=str(14000000 + number) if action == "accept" else None
        )  # type: ignore[arg-type]
        if self.ledger.refusal(decision) is None:  # the update's validator
            self.decisions.append(self.ledger.decide(decision))

    # ---- the run ------------------------------------------------------------------------------

    @precondition(lambda self: self.ledger.status == ApplicationStatus.VERIFYING)
    @rule(outcome=st.sampled_from(["opened", "rejected", "cancelled"]))
    def verified(self, outcome: str) -> None:
        self._step()
        if outcome == "opened" and not self.ledger.cancel_requested:
            self.ledger.order_opened(TXN_REF, TOTAL)
        elif outcome == "rejected":
            self.ledger.ended_before_order(ApplicationStatus.REJECTED)
        else:
            self.ledger.ended_before_order(ApplicationStatus.CANCELLED)

    @precondition(lambda self: self.ledger.status != ApplicationStatus.VERIFYING and not self.finished)
    @rule(choice=st.integers(0, 3), found=st.none() | payments)
    def run(self, choice: int, found: PaymentReceived | None) -> None:
        """Advance, or answer the command being run with any answer the world may give."""
        self._step()
        ledger = self.ledger
        if ledger.running is None:
            command = ledger.advance()
            if isinstance(command, Finish):
                self.finished = True
                self.check_finished()
            return
        answer(ledger, ledger.running, plain=False, choice=choice, found=found)

    # ---- invariants -----------------------------------------------------------------------------

    @invariant()
    def each_transaction_is_in_one_place(self) -> None:
        ledger = self.ledger
        states = {k: e.state for k, e in ledger.entries.items()}
        assert sum(s == PaymentState.ALLOCATED for s in states.values()) <= 1, states
        for key, state in states.items():
            if state == PaymentState.PROCESSING:
                assert key in ledger.queue or key == ledger.chosen, (key, ledger)
            if state == PaymentState.UNDER_REVIEW:
                assert ledger.status == ApplicationStatus.PAYMENT_REVIEW, (key, ledger)
            if state in (PaymentState.REFUNDED, PaymentState.REFUND_PENDING):
                assert ledger.entries[key].refund_sent
        assert all(states[k] == PaymentState.PROCESSING for k in ledger.queue)
        assert len(set(ledger.queue)) == len(ledger.queue)
        if ledger.status == ApplicationStatus.ALLOCATING:
            assert ledger.chosen is not None and states[ledger.chosen] == PaymentState.PROCESSING
        if ledger.status == ApplicationStatus.COMPLETED and ledger.chosen is not None:
            assert states[ledger.chosen] == PaymentState.ALLOCATED
        if ledger.status in (
            ApplicationStatus.REJECTED,
            ApplicationStatus.CANCELLED,
            ApplicationStatus.EXPIRED,
        ):
            assert not any(s in (PaymentState.PROCESSING, PaymentState.UNDER_REVIEW) for s in states.values())

    @invariant()
    def no_decision_left_waiting(self) -> None:
        ledger = self.ledger
        if ledger.status != ApplicationStatus.PAYMENT_REVIEW:
            assert ledger.pending is None and ledger.applying is None, ledger
            for decision_id in self.decisions:
                assert ledger.answer(decision_id) is not None, (decision_id, ledger)

    @invariant()
    def the_run_always_reaches_its_end(self) -> None:
        if self.ledger.status == ApplicationStatus.VERIFYING:
            return
        copy_ = copy.deepcopy(self.ledger)
        ended = drive_to_finish(copy_)
        decisions = list(range(1, ended.decisions + 1))
        assert all(ended.answer(d) is not None for d in decisions), ended
        LedgerMachine.check_finished_ledger(ended)

    def check_finished(self) -> None:
        LedgerMachine.check_finished_ledger(self.ledger)

    @staticmethod
    def check_finished_ledger(ledger: Ledger) -> None:
        assert ledger.records_closed and ledger.pending is None and ledger.applying is None
        for entry in ledger.entries.values():
            assert entry.state not in (PaymentState.PROCESSING, PaymentState.UNDER_REVIEW), ledger
            if entry.state == PaymentState.REFUND_DUE:
                assert entry.refund_sent, ledger  # owed back: asked of the bank, refused: an operator's
        allocated = [k for k, e in ledger.entries.items() if e.state == PaymentState.ALLOCATED]
        if ledger.status == ApplicationStatus.COMPLETED and ledger.chosen is not None:
            assert allocated == [ledger.chosen]


LedgerMachine.TestCase.settings = settings(
    max_examples=10_000 if LONG else 1_500,
    stateful_step_count=50 if LONG else 30,
    derandomize=not LONG,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
TestLedger = LedgerMachine.TestCase
