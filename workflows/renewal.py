"""`HouseholdRenewal`: one durable run per household application, read as the procedure.

Step 1 records the declaration; step 2 verifies residence and participation and quotes the
amount; step 3 opens the bank order — all in one workflow task (local activities), so the
`quote` update (update-with-start) answers in one round trip. From then on the run follows the
application's ledger (`domain.ledger`): it feeds it what happens (the bank's `payment_received`
signal, `cancel`, the deadline, the operator's `resolve_review`, the answers of its activities)
and runs the command the ledger asks for next — step 4's bank check and allocation, the review,
the question to the bank before closing, step 5, the refunds. The run keeps no money state of
its own: every paid transaction ends allocated, under review, or sent back, and every decision is
answered (README, operator section).

Changing this code: see "Changing the workflow" in the README (replayed histories in
tests/workflows/histories; Worker Versioning for incompatible changes once deployed).

Determinism: time comes from `workflow.now()`, all I/O from activities. What operators see
(search attributes, failure messages) holds codes and amounts only, never personal data.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.closing import ClosingActivities
    from activities.errors import CANCEL_REQUESTED, DECLARATION_INVALID
    from activities.inputs import (
        AllocateInput,
        AllocateResult,
        CloseApplication,
        EnterReview,
        NoticeRequest,
        OpenPayment,
        ParticipationInput,
        QuoteRequest,
        ReconcileInput,
        RefundInput,
        ResidenceInput,
        ResultNotices,
        SettleOrder,
    )
    from activities.notify import NotificationActivities
    from activities.refunds import RefundActivities
    from activities.review import ReviewActivities
    from activities.step1_declaration import DeclarationActivities
    from activities.step2_verification import VerificationActivities
    from activities.step3_payment import PaymentActivities
    from activities.step4_allocation import AllocationActivities
    from activities.step5_result import ResultActivities
    from domain import ledger as money
    from domain import messages, notices
    from domain.application import ApplicationView, RenewalInput, vietnam_date
    from domain.messages import (
        DECLARATION_NOT_RECORDED,
        NO_ELIGIBLE_MEMBER,
        RESIDENCE_MISMATCH,
        VERIFICATION_UNAVAILABLE,
    )
    from domain.models import ApplicationStatus, MemberOutcome, PaymentReceived
    from domain.payments import ReviewDecision, same_content, transaction_key
    from workflows import calls, view
    from workflows.contract import (
        QUERY_STATUS,
        SA_APPLICATION_ID,
        SA_MEMBER_COUNT,
        SA_PROVINCE_CODE,
        SA_RENEWAL_STATUS,
        SA_TOTAL_AMOUNT,
        SIGNAL_CANCEL,
        SIGNAL_PAYMENT_RECEIVED,
        UPDATE_QUOTE,
        UPDATE_RESOLVE_REVIEW,
        WORKFLOW_TYPE,
    )
    from workflows.settings import LOCAL_BANK, LOCAL_DATABASE, LOCAL_REGISTRY, NOTICE


@workflow.defn(name=WORKFLOW_TYPE)
class HouseholdRenewal:
    @workflow.init
    def __init__(self, request: RenewalInput) -> None:
        self._request = request
        self._view = ApplicationView(
            application_id=request.application_id,
            status=ApplicationStatus.VERIFYING,
            submitted_at=request.submitted_at,
            updated_at=request.submitted_at,
            members=[
                MemberOutcome(card_number=m.card_number, result="pending")
                for m in request.declaration.members
            ],
        )
        self._ledger = money.Ledger()
        self._deadline = request.submitted_at
        self._allocation: AllocateResult | None = None

    # ---- the procedure -------------------------------------------------------------------

    @workflow.run
    async def run(self, request: RenewalInput) -> ApplicationView:
        await self._steps_1_to_3()
        await self._follow_the_ledger()
        return self._view

    async def _steps_1_to_3(self) -> None:
        """Record, verify, quote and open the order, in one workflow task. Ends the application
        (rejected, or cancelled before any order) by telling the ledger."""
        request = self._request

        # Step 1 — kê khai
        try:
            await calls.local(
                DeclarationActivities.record_declaration,
                request,
                "step 1: record declaration",
                LOCAL_DATABASE,
            )
        except ActivityError as err:
            if calls.error_type(err) == DECLARATION_INVALID:
                return self._reject(messages.declaration_invalid(calls.cause(err)))
            workflow.logger.warning("declaration not recorded: %s", calls.cause(err))
            return self._reject(DECLARATION_NOT_RECORDED)

        # Step 2 — xác thực & tính tiền; step 3 — the payment order
        try:
            await self._verify_quote_and_open()
        except ActivityError as err:
            if calls.error_type(err) == CANCEL_REQUESTED:  # the cancel on record: no order opened
                return self._ledger.ended_before_order(ApplicationStatus.CANCELLED)
            # an outside system stayed down past the retry window: the declarant may declare again
            workflow.logger.warning("verification failed: %s", calls.cause(err))
            return self._reject(VERIFICATION_UNAVAILABLE)

    async def _verify_quote_and_open(self) -> None:
        request = self._request
        declaration = request.declaration
        # 2a and 2b at once (neither needs the other); both are awaited before anything is decided
        both = await asyncio.gather(
            calls.local(
                VerificationActivities.verify_residence,
                ResidenceInput(
                    application_id=request.application_id,
                    head_personal_id=declaration.head.personal_id,
                    card_numbers=[m.card_number for m in declaration.members],
                    head=declaration.head,
                ),
                "step 2a: verify residence",
                LOCAL_REGISTRY,
            ),
            calls.local(
                VerificationActivities.check_participation,
                ParticipationInput(application_id=request.application_id, members=declaration.members),
                "step 2b: check participation",
                LOCAL_REGISTRY,
            ),
            return_exceptions=True,
        )
        for outcome in both:
            if isinstance(outcome, BaseException):
                raise outcome
        residence, checks = both
        if self._ledger.cancel_requested:
            return self._ledger.ended_before_order(ApplicationStatus.CANCELLED)
        if residence.household_code is None:
            # a person twice, an unverified head or the household's open application; else residence
            self._view.open_application_id = residence.open_application_id
            return self._reject(residence.rejection or RESIDENCE_MISMATCH)
        self._view.household_code = residence.household_code
        self._view.members = view.checked(checks)
        if not any(c.eligible for c in checks):
            return self._reject(NO_ELIGIBLE_MEMBER)

        # Step 2c — the quote, binding until the payment deadline
        quote = await calls.local(
            VerificationActivities.compute_quote,
            QuoteRequest(
                application_id=request.application_id,
                household_code=residence.household_code,
                quote_date=vietnam_date(workflow.now()),
                members=declaration.members,
                checks=checks,
            ),
            "step 2c: compute quote",
            LOCAL_DATABASE,
        )
        if self._ledger.cancel_requested:
            return self._ledger.ended_before_order(ApplicationStatus.CANCELLED)

        # Step 3 — nộp tiền: the order, in this same task (a cancel signal cannot enter it: the
        # order step reads the cancel the API put on record, and writes the payment-due notice)
        self._deadline = workflow.now() + timedelta(seconds=request.payment_deadline_seconds)
        margin = min(request.payment_margin_seconds, request.payment_deadline_seconds // 2)
        payment = await calls.local(
            PaymentActivities.open_payment,
            OpenPayment(
                application_id=request.application_id,
                household_code=residence.household_code,
                quote=quote,
                deadline=self._deadline - timedelta(seconds=margin),  # the bank's expires first
            ),
            "step 3: open payment order",
            LOCAL_BANK,
        )
        self._view.quote, self._view.payment = quote, payment
        self._ledger.order_opened(payment.txn_ref, quote.total)
        self._sync(
            SA_TOTAL_AMOUNT.value_set(quote.total),
            SA_MEMBER_COUNT.value_set(len(quote.lines)),
            SA_PROVINCE_CODE.value_set(quote.lines[0].province_code),
        )

    async def _follow_the_ledger(self) -> None:
        """Steps 3–5 and the close: the ledger's next command, run, its answer fed back, until
        the ledger lets the run end and no handler is still running."""
        ledger = self._ledger
        while True:
            command = ledger.advance()
            self._sync()
            if isinstance(command, money.Finish):
                seen = ledger.version
                await workflow.wait_condition(workflow.all_handlers_finished)
                if ledger.version == seen:
                    return
            elif isinstance(command, money.Wait):
                seen = ledger.version
                timeout = (
                    max(self._deadline - workflow.now(), timedelta(seconds=1)) if command.deadline else None
                )
                try:
                    await workflow.wait_condition(lambda: ledger.version != seen, timeout=timeout)  # noqa: B023
                except TimeoutError:
                    ledger.deadline()
            else:
                await self._carry_out(command)

    async def _carry_out(self, command: money.Command) -> None:
        ledger = self._ledger
        match command:
            case money.CheckWithBank(payment=paid):  # step 4: the bank's own record of it
                try:
                    reason = await calls.until_done(
                        AllocationActivities.reconcile_payment,
                        ReconcileInput(application_id=self._request.application_id, payment=paid),
                        "step 4: reconcile with the bank",
                    )
                except ActivityError as err:
                    reason = f"reconcile_refused: {calls.cause(err)}"
                ledger.checked(reason)
            case money.RecordReview():  # the cards stay reserved: only the recorded status changes
                await calls.until_done(
                    ReviewActivities.enter_review,
                    EnterReview(application_id=self._request.application_id, notice=messages.PAYMENT_REVIEW),
                    "mark payment review, tell the declarant",
                )
                ledger.review_recorded()
            case money.Allocate(payment=paid):  # step 4 — phân bổ
                await self._allocate(paid)
            case money.ReadAllocation():  # an allocation whose answer was lost may have committed
                committed = await calls.until_done(
                    AllocationActivities.read_allocation,
                    self._request.application_id,
                    "review: re-read the allocation",
                )
                if committed is not None:
                    self._record_allocation(committed.result)
                ledger.allocation_found(None if committed is None else committed.transaction)
            case money.SettleAtBank():  # querydr before closing: a late or lost callback is heard
                assert self._view.payment is not None
                found = await calls.until_done(
                    PaymentActivities.settle_order,
                    SettleOrder(
                        application_id=self._request.application_id,
                        txn_ref=self._view.payment.txn_ref,
                        opened_at=self._view.payment.opened_at,
                        deadline=self._view.payment.deadline,
                    ),
                    "step 3: ask the bank before closing",
                )
                ledger.bank_settled(found)
            case money.Complete():  # step 5 — trả kết quả, and the close, in one activity
                assert self._allocation is not None
                await calls.until_done(
                    ResultActivities.complete_application,
                    ResultNotices(
                        application_id=self._request.application_id,
                        receipt_label=self._allocation.receipt.label,
                        allocations=self._allocation.allocations,
                    ),
                    "step 5: notify participants, close application: completed",
                )
                ledger.records_done()
            case money.Close(status=status):
                await self._close(status)
            case money.Refund(payment=paid, reason=reason):
                await self._refund(paid, reason)

    async def _allocate(self, paid: PaymentReceived) -> None:
        """Step 4; a refusal by the records sends the money to an operator, never lost."""
        self._view.paid_at = paid.pay_date
        quote = self._view.quote
        assert quote is not None and self._view.household_code is not None
        try:
            result = await calls.until_done(
                AllocationActivities.allocate,
                AllocateInput(
                    application_id=self._request.application_id,
                    household_code=self._view.household_code,
                    payer_name=self._request.declaration.head.full_name,
                    receipt_series=self._request.receipt_series,
                    payment=paid,
                    lines=quote.lines,
                ),
                "step 4: allocate and extend cards",
            )
        except ActivityError as err:
            self._ledger.allocation_refused(calls.cause(err))
            return
        self._record_allocation(result)
        self._ledger.allocated()

    async def _close(self, status: ApplicationStatus) -> None:
        """Closed unpaid: the records free the cards, then the declarant is told."""
        await calls.until_done(
            ClosingActivities.close_application,
            CloseApplication(application_id=self._request.application_id, status=status),
            f"close application: {status.value}",
        )
        if status == ApplicationStatus.REJECTED:
            message = self._view.rejection_message or ""
        elif status == ApplicationStatus.EXPIRED:
            assert self._view.payment is not None
            message = notices.expired(self._view.payment)
        else:
            message = messages.CANCELLED
        if self._view.payment is not None or status == ApplicationStatus.REJECTED:
            await self._notify(status.value, message)  # a cancel before any order: no notice
        self._ledger.records_done()

    async def _refund(self, paid: PaymentReceived, reason: str) -> None:
        """One refund per transaction owed back (the activity asks the bank what it has first)."""
        try:
            done = await calls.until_done(
                RefundActivities.refund_payment,
                RefundInput(application_id=self._request.application_id, payment=paid, reason=reason),
                "refund a payment not allocated",
            )
            state, detail = done.state, done.detail
        except ActivityError as err:
            state, detail = "rejected", f"refund failed: {calls.cause(err)}"
        if state == "rejected":
            workflow.logger.warning("refund not made, operator needed: %s", detail)
        self._ledger.refunded(state, detail)

    # ---- handlers ------------------------------------------------------------------------

    @workflow.signal(name=SIGNAL_PAYMENT_RECEIVED)
    def payment_received(self, payment: PaymentReceived) -> None:
        """The verified bank callback. Duplicates and failed payments change nothing; money for
        an application that no longer takes it is refunded before the run ends."""
        known = self._ledger.entries.get(transaction_key(payment))
        if not payment.is_paid or not self._ledger.heard(payment):
            self._view.ignored_callbacks += 1
            if known is not None and not same_content(known.payment, payment):
                workflow.logger.warning(
                    "bank transaction %s reported again with other content", known.payment.transaction_no
                )
            return
        self._sync()

    @workflow.signal(name=SIGNAL_CANCEL)
    def cancel(self) -> None:
        """Acts only before money was accepted; a review is resolved by `resolve_review`."""
        if not self._ledger.cancel():
            workflow.logger.info("cancel ignored in status %s", self._view.status.value)

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> ApplicationView:
        return self._view

    @workflow.update(name=UPDATE_QUOTE)
    async def quote(self) -> ApplicationView:
        """Returns once step 2 is over: the quote with payment instructions, or the rejection."""
        await workflow.wait_condition(lambda: self._view.status != ApplicationStatus.VERIFYING)
        return self._view

    @workflow.update(name=UPDATE_RESOLVE_REVIEW)
    async def resolve_review(self, decision: ReviewDecision) -> ApplicationView:
        """The operator's decision on a payment review; answers once the run acted on it, or
        fails naming what overtook it (e.g. the right transfer was allocated meanwhile)."""
        decision_id = self._ledger.decide(decision)
        workflow.logger.info("review decision: %s", decision.action)
        await workflow.wait_condition(lambda: self._ledger.answer(decision_id) is not None)
        answer = self._ledger.answer(decision_id)
        assert answer is not None
        if not answer.applied:
            raise ApplicationError(answer.message, type="DecisionOvertaken", non_retryable=True)
        return self._view

    @resolve_review.validator
    def _validate_review(self, decision: ReviewDecision) -> None:
        refusal = self._ledger.refusal(decision)
        if refusal is not None:
            raise ValueError(refusal)

    # ---- the view and the activities ------------------------------------------------------

    def _sync(self, *also: Any) -> None:
        """The view from the ledger; a new status goes to one search-attribute upsert (with `also`)."""
        ledger = self._ledger
        self._view.payments = ledger.outcomes()
        if ledger.review_reason is not None:
            self._view.review_reason = ledger.review_reason
        if ledger.status == self._view.status and not also:
            return
        self._view.status = ledger.status
        self._view.updated_at = workflow.now()
        workflow.upsert_search_attributes(
            [
                SA_RENEWAL_STATUS.value_set(ledger.status.value),
                SA_APPLICATION_ID.value_set(self._request.application_id),
                *also,
            ]
        )

    def _reject(self, message: str) -> None:
        self._view.rejection_message = message
        self._ledger.ended_before_order(ApplicationStatus.REJECTED)

    def _record_allocation(self, result: AllocateResult) -> None:
        self._allocation = result
        self._view.receipt = result.receipt
        self._view.members = view.renewed(self._view.members, result)

    async def _notify(self, kind: str, message: str) -> None:
        """Writes the notice to the outbox; the worker's sweeper delivers it. A notice that cannot
        even be recorded is logged, and the application goes on."""
        try:
            await workflow.execute_activity_method(
                NotificationActivities.send_notice,
                NoticeRequest(
                    application_id=self._request.application_id,
                    kind=kind,
                    recipient="declarant",
                    message=message,
                ),
                summary=f"notify declarant: {kind}",
                **NOTICE,
            )
        except ActivityError as err:
            workflow.logger.warning("notice %s not recorded: %s", kind, calls.cause(err))
