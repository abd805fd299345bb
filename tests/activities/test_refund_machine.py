"""The refund state machine under generated sequences of bank answers, lost answers, retries,
the bank settling, and operators' retries (hypothesis `RuleBasedStateMachine`, derandomized).

The real `refund_transaction` and refund follower run against our database and the bank
simulator in process (its clock moved by the test, its answers lost or never delivered by a
wrapping transport). After every step:
- no vnp_RequestId is ever sent twice (VNPay refuses a repeat within the day);
- the bank never holds two live refunds of one transaction (money goes back at most once);
- `refunded` on our side only when the bank's refund is done (00), `rejected` only when the bank
  has no refund in process or done, `in_process` only when the bank has the refund on record;
- once `refunded`, always `refunded`.
At the end, with the bank settled and the follower run, our record says what the bank says.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from adapters.bank import BankError, BankGatewayClient
from adapters.db import Database, migrate_async
from domain.models import PaymentReceived
from domain.refunds import RefundState, stored_state
from services.refunds import follow_due_refunds, refund_transaction
from simulators.bank import Knobs, create_app

SECRET, TMN = "machine-secret", "BHXHTEST"
SETTLE_MS = 60_000
_numbers = itertools.count(1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class LossyTransport(httpx.AsyncBaseTransport):
    """The simulator over ASGI; the `fail_at`-th call from now is never delivered (`unreached`)
    or its answer is lost (`lost`). Every refund request id that reached the bank is kept."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.plan: tuple[int, str] | None = None
        self.calls = 0
        self.refund_ids: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index, self.calls = self.calls, self.calls + 1
        failing = self.plan is not None and self.plan[0] == index
        if failing and self.plan and self.plan[1] == "unreached":
            raise httpx.ConnectError("unreached", request=request)
        body = json.loads(request.content or b"{}")
        if body.get("vnp_Command") == "refund":
            self.refund_ids.append(body["vnp_RequestId"])
        response = await self.inner.handle_async_request(request)
        if failing:
            await response.aread()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


class World:
    """One event loop, database and simulator for every generated example."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.dir = Path(tempfile.mkdtemp(prefix="refund-machine-"))
        url = f"sqlite+aiosqlite:///{self.dir / 'bhyt.db'}"
        self.loop.run_until_complete(migrate_async(url))
        self.db = Database(url)
        self.clock = Clock()
        self.knobs = Knobs(refund_settle_ms=SETTLE_MS)
        self.app = create_app(
            self.dir / "bank.db", secret=SECRET, tmn_code=TMN, knobs=self.knobs, clock=self.clock
        )
        self.store = self.app.state.store
        self.transport = LossyTransport(httpx.ASGITransport(app=self.app))
        self.bank = BankGatewayClient("http://bank", TMN, secret=SECRET, transport=self.transport)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)


_world: World | None = None


def world() -> World:
    global _world
    if _world is None:
        _world = World()
    return _world


class RefundMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w = world()
        n = next(_numbers)
        self.w.knobs.refund_outcome = "success"
        ref = f"RM{n}T{int(self.w.clock.now.timestamp())}"
        opened = self.w.clock.now
        self.w.store.insert_order(
            txn_ref=ref, tmn_code=TMN, amount=100_000 + n, order_info="x", ipn_url="http://merchant/ipn",
            created_at=opened, expires_at=None,
        )  # fmt: skip
        tx = self.w.store.record_payment(
            txn_ref=ref, amount=100_000 + n, bank_code="NCB", card_type="ATM", pay_date=opened,
            response_code="00", transaction_status="00", order_status="paid",
        )  # fmt: skip
        self.payment = PaymentReceived(
            txn_ref=ref,
            amount=tx["amount"],
            bank_code=tx["bank_code"],
            bank_tran_no=tx["bank_tran_no"],
            transaction_no=tx["transaction_no"],
            pay_date=opened,
            response_code="00",
            transaction_status="00",
        )
        self.application_id = f"app-{n}"
        self.was_refunded = False

    # -- what each side holds --------------------------------------------------------------

    def ours(self) -> RefundState:
        async def read() -> str | None:
            async with self.w.db.unit_of_work(read_only=True) as uow:
                row = await uow.repo.payment_row(self.payment)
            return None if row is None else row.refund_status

        return stored_state(self.w.run(read()))

    def bank_refund(self) -> str | None:
        latest = self.w.store.latest_refund(self.payment.transaction_no, self.w.clock.now)
        return None if latest is None else latest["status"]

    # -- rules ---------------------------------------------------------------------------------

    @rule(failure=st.one_of(st.none(), st.tuples(st.integers(0, 2), st.sampled_from(["lost", "unreached"]))))
    def refund(self, failure: tuple[int, str] | None) -> None:
        """The run's activity (or `starter.py refund`), one attempt; a failure is retried later."""
        self.w.transport.calls, self.w.transport.plan = 0, failure
        try:
            result = self.w.run(
                refund_transaction(self.w.db, self.w.bank, self.application_id, self.payment, "t")
            )
        except BankError:
            return
        finally:
            self.w.transport.plan = None
        if result.state == "refunded":
            assert self.bank_refund() == "00", "refunded only when the bank says so"

    @initialize(outcome=st.sampled_from(["success", "rejected"]))
    def bank_starts_deciding(self, outcome: str) -> None:
        self.w.knobs.refund_outcome = outcome

    @rule(outcome=st.sampled_from(["success", "rejected"]))
    def bank_decides(self, outcome: str) -> None:
        self.w.knobs.refund_outcome = outcome

    @rule(ms=st.sampled_from([SETTLE_MS // 3, SETTLE_MS + 1]))
    def time_passes(self, ms: int) -> None:
        self.w.clock.now += timedelta(milliseconds=ms)

    @rule(failure=st.booleans())
    def follower(self, failure: bool) -> None:
        self.w.transport.calls, self.w.transport.plan = 0, ((0, "lost") if failure else None)
        try:
            self.w.run(follow_due_refunds(self.w.db, self.w.bank, now=datetime.now(UTC) + timedelta(days=1)))
        finally:
            self.w.transport.plan = None

    @rule()
    def bank_settles_and_the_follower_asks(self) -> None:
        self.w.clock.now += timedelta(milliseconds=SETTLE_MS + 1)
        self.w.run(follow_due_refunds(self.w.db, self.w.bank, now=datetime.now(UTC) + timedelta(days=1)))

    @precondition(lambda self: self.ours() == RefundState.REJECTED)
    @rule()
    def operator_retries(self) -> None:
        async def decide() -> None:
            async with self.w.db.unit_of_work() as uow:
                await uow.repo.decide_refund(self.application_id, self.payment.transaction_no, "retry", "op")
                await uow.commit()

        self.w.run(decide())

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def request_ids_are_never_reused(self) -> None:
        ids = self.w.transport.refund_ids
        assert len(ids) == len(set(ids))

    @invariant()
    def at_most_one_live_refund_at_the_bank(self) -> None:
        with self.w.store._connect() as db:
            rows = db.execute(
                "SELECT * FROM refund_requests WHERE transaction_no = ? AND response_code = '00'",
                (self.payment.transaction_no,),
            ).fetchall()
        from simulators.bank.store import refund_status

        live = [r for r in rows if refund_status(r, self.w.clock.now) != "09"]
        assert len(live) <= 1

    @invariant()
    def our_record_never_claims_more_than_the_bank(self) -> None:
        ours, bank = self.ours(), self.bank_refund()
        if ours == RefundState.REFUNDED:
            assert bank == "00"
            self.was_refunded = True
        elif self.was_refunded:
            raise AssertionError("a refunded transaction went back to another state")
        if ours == RefundState.REJECTED:
            assert bank in (None, "09"), bank
        if ours == RefundState.IN_PROCESS:
            assert bank is not None

    def teardown(self) -> None:
        """The bank settles, the follower and clean attempts run: both sides agree."""
        self.w.transport.plan = None
        later = datetime.now(UTC) + timedelta(days=1)
        for _ in range(3):
            self.w.clock.now += timedelta(milliseconds=SETTLE_MS + 1)
            self.w.run(follow_due_refunds(self.w.db, self.w.bank, now=later))
            if self.ours() in (RefundState.NONE, RefundState.REQUESTED, RefundState.RETRY):
                self.w.run(refund_transaction(self.w.db, self.w.bank, self.application_id, self.payment, "t"))
        self.w.clock.now += timedelta(milliseconds=SETTLE_MS + 1)
        self.w.run(follow_due_refunds(self.w.db, self.w.bank, now=later))
        expected = {"00": RefundState.REFUNDED, "09": RefundState.REJECTED}[self.bank_refund() or ""]
        assert self.ours() == expected


TestRefundMachine = RefundMachine.TestCase
TestRefundMachine.settings = settings(
    max_examples=80, stateful_step_count=20, deadline=None, derandomize=True
)
