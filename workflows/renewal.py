"""`HouseholdRenewal`: one durable run per household application, read as the procedure.

Step 1 records the declaration; step 2 verifies residence and participation and quotes the
amount (the `quote` update returns here, so update-with-start answers in one round trip);
step 3 waits for the bank's `payment_received` signal until the deadline or a `cancel`;
step 4 reconciles and allocates; step 5 tells each participant. Every branch ends by closing
the application in the BHXH records, which frees its cards.

Money (issue 10): every paid transaction the run hears of (signal, or the bank's order query
at the deadline) ends allocated, under an operator's review, or refunded by the run before it
ends — including payments that arrive while it closes. Once money has arrived no activity
has a schedule-to-close cut-off: outages are retried with capped backoff (the pending
activity and its attempts show in the UI), never a failed run. A review is resolved only by
the `resolve_review` update; a `cancel` acts only before any payment was accepted.

Changing this code: see "Changing the workflow" in the README (`workflow.patched`, replayed
histories in tests/workflows/histories).

Determinism: time comes from `workflow.now()`, all I/O from activities. What operators see
(search attributes, failure messages) holds codes and amounts only, never personal data.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.errors import CANCEL_REQUESTED, DECLARATION_INVALID, NON_RETRYABLE
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
        RefundResult,
        ResidenceInput,
        ResidenceResult,
        ResultNotices,
        SettleOrder,
    )
    from activities.notify import NotificationActivities
    from activities.step1_declaration import DeclarationActivities
    from activities.step2_verification import VerificationActivities
    from activities.step3_payment import PaymentActivities
    from activities.step4_allocation import AllocationActivities
    from activities.step5_result import ResultActivities
    from domain import notices
    from domain.allocation import payment_mismatch
    from domain.application import (
        DECLARATION_NOT_RECORDED,
        NO_ELIGIBLE_MEMBER,
        VERIFICATION_UNAVAILABLE,
        ApplicationView,
        RenewalInput,
        vietnam_date,
    )
    from domain.messages import RESIDENCE_MISMATCH
    from domain.models import (
        ApplicationStatus,
        MemberCheck,
        MemberOutcome,
        PaymentInstructions,
        PaymentReceived,
        Quote,
    )
    from domain.payments import (
        PaymentState,
        ReviewDecision,
        outcome_of,
        same_content,
        transaction_key,
    )
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

# Retry policies by what the activity calls. Business answers are non-retryable by type;
# outages (database, registry, bank) are retried with backoff.
OUTAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=NON_RETRYABLE,
)
UNTIL_DONE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=NON_RETRYABLE,
)
DATABASE = dict(
    # before any money: past the window the declarant is told to try again later
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(hours=1),
    retry_policy=OUTAGE_RETRY,
)
REGISTRY = dict(
    start_to_close_timeout=timedelta(seconds=20),
    schedule_to_close_timeout=timedelta(minutes=30),
    retry_policy=OUTAGE_RETRY,
)
BANK = dict(
    # opening the order: before any money, so a long outage rejects with "try again later"
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(minutes=30),
    retry_policy=OUTAGE_RETRY,
)
UNTIL_DONE = dict(
    # money may have arrived, or the final status must reach the records: no schedule-to-close
    # cut-off, capped backoff; the pending activity and its attempt count show in the UI
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=UNTIL_DONE_RETRY,
)
NOTICE = dict(
    # one short write to the outbox; delivery to the webhook is the worker's sweeper
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(hours=1),
    retry_policy=OUTAGE_RETRY,
)

LOCAL_STEPS = "local-short-steps"
"""Issue 12 (`workflow.patched`): the short database and registry steps before the quote run as
local activities — in the worker, inside the workflow task, no round trip through the server per
step — and 2a and 2b run together. Runs started before this change replay their old path.

A local activity's attempt must end within the workflow task timeout (10 s): `start_to_close` is
8 s. A failed attempt is retried in the worker with the same backoff while the wait is under
`local_retry_threshold`; longer waits become timers in the history (the task ends, the retry
comes with a later one). Past `schedule_to_close` the step fails as the regular one did (the
declarant is told to try again later). A worker crash mid-step re-runs the step from the start on
another worker: every one of them is idempotent per application (record, reserve, quote) or
read-only (residence)."""
LOCAL_DATABASE: dict[str, Any] = dict(
    start_to_close_timeout=timedelta(seconds=8),
    schedule_to_close_timeout=timedelta(hours=1),
    local_retry_threshold=timedelta(seconds=10),
    retry_policy=OUTAGE_RETRY,
)
LOCAL_REGISTRY: dict[str, Any] = dict(
    start_to_close_timeout=timedelta(seconds=8),
    schedule_to_close_timeout=timedelta(minutes=30),
    local_retry_threshold=timedelta(seconds=10),
    retry_policy=OUTAGE_RETRY,
)

LEAN = "lean-renewal"
"""Issue 12, second step (`workflow.patched`, on top of LOCAL_STEPS): the whole quote in one
workflow task, and fewer activities after it.

- Step 3's order is a local activity too, right after 2c, with no timer between them (a 1 ms
  timer cost a full second on the dev server's timer queue). A cancel signal cannot reach the
  run inside that task, so the API puts the declarant's cancel on record first and the order
  step reads it (`OpenPayment.unless_cancelled`): a cancel during `verifying` still ends the
  application before any order or notice. A cancel sent only as a signal (Temporal UI) while
  the task runs is heard right after it: the order is then voided like any cancel in
  `awaiting_payment`, and a payment already taken is refunded.
- The payment-due notice is written by the order step once the order is open.
- Step 5 writes the participants' notices and closes the application in one activity.

Runs started before this change replay their old path."""
LOCAL_BANK: dict[str, Any] = dict(
    start_to_close_timeout=timedelta(seconds=8),
    schedule_to_close_timeout=timedelta(minutes=30),
    local_retry_threshold=timedelta(seconds=10),
    retry_policy=OUTAGE_RETRY,
)

CANCELLABLE = (ApplicationStatus.VERIFYING, ApplicationStatus.AWAITING_PAYMENT)
"""A `cancel` acts only before money was accepted; a review is resolved by `resolve_review`."""


class _Cancelled(Exception):
    """Raised inside step 2 when a cancel arrived: the application ends before any order."""


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
        self._payments: list[PaymentReceived] = []  # every paid transaction heard of, in order
        self._handled = 0  # payments already looked at by step 3
        self._seen: dict[str, PaymentReceived] = {}
        self._accepting = True  # step 3 may still allocate a new payment
        self._allocated: str | None = None  # the transaction allocated to this application
        self._cancel_requested = False
        self._local_steps = False  # set at the start of the run (LOCAL_STEPS)
        self._lean = False  # set at the start of the run (LEAN)
        self._decision: ReviewDecision | None = None
        self._deadline = request.submitted_at
        self._refund_attempted: set[str] = set()

    # ---- the procedure -------------------------------------------------------------------

    @workflow.run
    async def run(self, request: RenewalInput) -> ApplicationView:
        await self._run()
        await self._refund_unallocated()
        return self._view

    async def _run(self) -> None:
        request = self._request

        # Step 1 — kê khai
        self._local_steps = workflow.patched(LOCAL_STEPS)
        self._lean = self._local_steps and workflow.patched(LEAN)
        try:
            await self._short_step(
                DeclarationActivities.record_declaration,
                request,
                "step 1: record declaration",
                regular=DATABASE,
                local=LOCAL_DATABASE,
            )
        except ActivityError as err:
            if _error_type(err) == DECLARATION_INVALID:
                return await self._reject(f"Tờ khai không hợp lệ ({_cause(err)})")
            workflow.logger.warning("declaration not recorded: %s", _cause(err))
            return await self._reject(DECLARATION_NOT_RECORDED)

        # Step 2 — xác thực & tính tiền (and the payment order of step 3)
        try:
            quoted = await self._verify_and_quote()
        except _Cancelled:
            return await self._close(ApplicationStatus.CANCELLED)
        except ActivityError as err:
            # an outside system stayed down past the retry window: the declarant may declare again
            workflow.logger.warning("verification failed: %s", _cause(err))
            return await self._reject(VERIFICATION_UNAVAILABLE)
        if quoted is None:
            return
        household_code, quote, payment = quoted
        self._view.quote = quote
        self._view.payment = payment
        quoted_attributes = [
            SA_TOTAL_AMOUNT.value_set(quote.total),
            SA_MEMBER_COUNT.value_set(len(quote.lines)),
            SA_PROVINCE_CODE.value_set(quote.lines[0].province_code),
        ]
        if self._local_steps:  # one upsert per status change
            self._set_status(ApplicationStatus.AWAITING_PAYMENT, quoted_attributes)
        else:
            workflow.upsert_search_attributes(quoted_attributes)
            self._set_status(ApplicationStatus.AWAITING_PAYMENT)
        if not self._lean:  # LEAN: the order step wrote it
            await self._notify("payment_due", notices.payment_due(quote, payment), amount=quote.total)

        # Step 3 — nộp tiền: wait for a matching payment, the deadline, or a cancel
        paid = await self._await_payment(quote, payment)
        if paid is None:
            return

        # Step 4 — phân bổ (a refusal by the records sends the money to an operator, never lost)
        result = await self._allocate_or_review(household_code, quote, paid)
        if result is None:
            return
        self._record_allocation(result)

        # Step 5 — trả kết quả (the outbox only: delivery is the worker's sweeper)
        renewed = ResultNotices(
            application_id=request.application_id,
            receipt_label=result.receipt.label,
            allocations=result.allocations,
        )
        if self._lean:
            # the status changes first (a payment heard meanwhile is refunded), then one activity
            # writes the participants' notices and closes the application in the records
            self._set_status(ApplicationStatus.COMPLETED)
            await workflow.execute_activity_method(
                ResultActivities.complete_application,
                renewed,
                summary="step 5: notify participants, close application: completed",
                **UNTIL_DONE,
            )
            return
        try:
            await workflow.execute_activity_method(
                ResultActivities.notify_participants,
                renewed,
                summary="step 5: notify participants",
                **NOTICE,
            )
        except ActivityError as err:
            workflow.logger.warning("participant notices not recorded: %s", _cause(err))
        await self._close(ApplicationStatus.COMPLETED)

    async def _verify_and_quote(self) -> tuple[str, Quote, PaymentInstructions] | None:
        """Steps 2a–2c and the payment order; None when the application was rejected.

        A cancel that arrived meanwhile ends the application before the order is opened."""
        residence_input = ResidenceInput(
            application_id=self._request.application_id,
            head_personal_id=self._request.declaration.head.personal_id,
            card_numbers=[m.card_number for m in self._request.declaration.members],
            head=self._request.declaration.head,
        )
        participation_input = ParticipationInput(
            application_id=self._request.application_id, members=self._request.declaration.members
        )
        if self._local_steps:
            # Steps 2a and 2b at once (neither needs the other). Both are awaited before anything
            # is decided, so a rejection never races a card reservation still being written.
            both = await asyncio.gather(
                self._short_step(
                    VerificationActivities.verify_residence,
                    residence_input,
                    "step 2a: verify residence",
                    regular=REGISTRY,
                    local=LOCAL_REGISTRY,
                ),
                self._short_step(
                    VerificationActivities.check_participation,
                    participation_input,
                    "step 2b: check participation",
                    regular=REGISTRY,
                    local=LOCAL_REGISTRY,
                ),
                return_exceptions=True,
            )
            for outcome in both:
                if isinstance(outcome, BaseException):
                    raise outcome
            residence, checks = both
            self._stop_if_cancelled()
            if not await self._residence_verified(residence):
                return None
            self._record_checks(checks)
            if not any(c.eligible for c in checks):
                await self._reject(NO_ELIGIBLE_MEMBER)
                return None
        else:
            # Step 2a — residence in the National Population Database
            residence = await workflow.execute_activity_method(
                VerificationActivities.verify_residence,
                residence_input,
                summary="step 2a: verify residence",
                **REGISTRY,
            )
            self._stop_if_cancelled()
            if not await self._residence_verified(residence):
                return None

            # Step 2b — participation in the BHXH database, per member
            checks = await workflow.execute_activity_method(
                VerificationActivities.check_participation,
                participation_input,
                summary="step 2b: check participation",
                **REGISTRY,
            )
            self._record_checks(checks)
            self._stop_if_cancelled()
            if not any(c.eligible for c in checks):
                await self._reject(NO_ELIGIBLE_MEMBER)
                return None

        # Step 2c — the quote, binding until the payment deadline
        quote_date = vietnam_date(workflow.now())
        quote = await self._short_step(
            VerificationActivities.compute_quote,
            QuoteRequest(
                application_id=self._request.application_id,
                household_code=residence.household_code,
                quote_date=quote_date,
                members=self._request.declaration.members,
                checks=checks,
            ),
            "step 2c: compute quote",
            regular=DATABASE,
            local=LOCAL_DATABASE,
        )
        if self._local_steps and not self._lean:
            # local steps run inside one workflow task, and a cancel sent meanwhile reaches the run
            # only at the next one: end this task (a 1 ms timer) so the cancel is seen before the
            # bank order is opened (issue 10: a cancel during step 2 ends it before any order)
            await workflow.sleep(timedelta(milliseconds=1))
        self._stop_if_cancelled()
        # the bank order expires a margin before the run's own deadline (see RenewalInput)
        self._deadline = workflow.now() + timedelta(seconds=self._request.payment_deadline_seconds)
        margin = min(self._request.payment_margin_seconds, self._request.payment_deadline_seconds // 2)
        order = OpenPayment(
            application_id=self._request.application_id,
            household_code=residence.household_code,
            quote=quote,
            deadline=self._deadline - timedelta(seconds=margin),
            unless_cancelled=self._lean,
            tell_declarant=self._lean,
        )
        if self._lean:
            try:
                payment = await self._short_step(
                    PaymentActivities.open_payment,
                    order,
                    "step 3: open payment order",
                    regular=BANK,
                    local=LOCAL_BANK,
                )
            except ActivityError as err:
                if _error_type(err) == CANCEL_REQUESTED:  # the cancel on record: no order opened
                    raise _Cancelled() from None
                raise
        else:
            payment = await workflow.execute_activity_method(
                PaymentActivities.open_payment, order, summary="step 3: open payment order", **BANK
            )
        return residence.household_code, quote, payment

    async def _residence_verified(self, residence: ResidenceResult) -> bool:
        """Step 2a's answer: the household, or the application rejected (False)."""
        if residence.household_code is None:
            # a person twice, an unverified head or the household's open application; else residence
            self._view.open_application_id = residence.open_application_id
            await self._reject(residence.rejection or RESIDENCE_MISMATCH)
            return False
        self._view.household_code = residence.household_code
        return True

    async def _short_step(
        self, activity: Any, arg: Any, summary: str, *, regular: dict[str, Any], local: dict[str, Any]
    ) -> Any:
        """A short step before the quote: a local activity on runs started since LOCAL_STEPS."""
        if self._local_steps:
            try:
                return await workflow.execute_local_activity_method(activity, arg, summary=summary, **local)
            except ApplicationError as err:
                # the SDK hands a local activity's failure over unwrapped: wrap it as a regular
                # activity's is, so each step's error handling is the same on both paths
                raise ActivityError(
                    f"local activity failed: {summary}",
                    scheduled_event_id=0,
                    started_event_id=0,
                    identity="",
                    activity_type=summary,
                    activity_id="",
                    retry_state=None,
                ) from err
        return await workflow.execute_activity_method(activity, arg, summary=summary, **regular)

    def _stop_if_cancelled(self) -> None:
        if self._cancel_requested:
            raise _Cancelled()

    async def _await_payment(self, quote: Quote, payment: PaymentInstructions) -> PaymentReceived | None:
        """Step 3's loop. Returns the payment to allocate, or None once the application has ended."""
        while True:
            if self._view.status == ApplicationStatus.AWAITING_PAYMENT:
                ready = lambda: self._has_new_payment() or self._cancel_requested  # noqa: E731
                remaining = self._deadline - workflow.now()
                try:
                    await workflow.wait_condition(ready, timeout=max(remaining, timedelta(seconds=1)))
                except TimeoutError:
                    # before expiring, ask the bank (void, then querydr): a payment it took completes
                    await self._settle_at_bank(payment)
                    if self._has_new_payment():
                        continue
                    self._accepting = False
                    await self._close(ApplicationStatus.EXPIRED)
                    await self._notify("expired", notices.expired(payment))
                    return None
            else:  # payment_review: an operator decides, or a matching transfer arrives; no deadline
                await workflow.wait_condition(lambda: self._has_new_payment() or self._decision is not None)

            if self._has_new_payment():
                candidate = self._payments[self._handled]
                self._handled += 1
                mismatch = payment_mismatch(candidate, txn_ref=payment.txn_ref, amount=quote.total)
                reason = None if mismatch is None else mismatch.reason
                if reason is None:
                    try:
                        reason = await workflow.execute_activity_method(
                            AllocationActivities.reconcile_payment,
                            ReconcileInput(application_id=self._request.application_id, payment=candidate),
                            summary="step 4: reconcile with the bank",
                            **UNTIL_DONE,
                        )
                    except ActivityError as err:
                        reason = f"reconcile_refused: {_cause(err)}"
                if reason is None:
                    return self._chosen(candidate)
                self._mark(candidate, PaymentState.UNDER_REVIEW, reason)
                await self._to_review(reason)
                continue

            if self._view.status == ApplicationStatus.PAYMENT_REVIEW:
                decision = self._take_decision()
                if decision.action == "accept":
                    return self._chosen(self._seen[decision.transaction or ""])
                await self._cancel_after_review(payment)
                return None

            # a cancel before any payment was accepted; the bank may still have taken one
            self._cancel_requested = False
            self._accepting = False
            await self._settle_at_bank(payment)
            await self._close(ApplicationStatus.CANCELLED)
            await self._notify("cancelled", notices.CANCELLED)
            return None

    async def _allocate_or_review(
        self, household_code: str, quote: Quote, paid: PaymentReceived
    ) -> AllocateResult | None:
        """Step 4; a refusal by the records goes to an operator, whose decision is final."""
        while True:
            self._set_status(ApplicationStatus.ALLOCATING)
            try:
                result = await workflow.execute_activity_method(
                    AllocationActivities.allocate,
                    AllocateInput(
                        application_id=self._request.application_id,
                        household_code=household_code,
                        payer_name=self._request.declaration.head.full_name,
                        receipt_series=self._request.receipt_series,
                        payment=paid,
                        lines=quote.lines,
                    ),
                    summary="step 4: allocate and extend cards",
                    **UNTIL_DONE,
                )
            except ActivityError as err:
                reason = f"allocation_refused: {_cause(err)}"
                self._mark(paid, PaymentState.UNDER_REVIEW, reason)
                await self._to_review(reason)
                await workflow.wait_condition(lambda: self._decision is not None)
                decision = self._take_decision()
                if decision.action == "accept":
                    paid = self._chosen(self._seen[decision.transaction or ""])
                    continue
                assert self._view.payment is not None
                committed = await self._cancel_after_review(self._view.payment)
                return committed
            self._allocated = transaction_key(paid)
            self._mark(paid, PaymentState.ALLOCATED)
            return result

    async def _cancel_after_review(self, payment: PaymentInstructions) -> AllocateResult | None:
        """refund_and_cancel: re-read the records first — an allocation that did commit (its
        answer was lost) completes the application instead, and its money stays allocated."""
        committed = await workflow.execute_activity_method(
            AllocationActivities.read_allocation,
            self._request.application_id,
            summary="review: re-read the allocation",
            **UNTIL_DONE,
        )
        if committed is not None:
            self._allocated = committed.transaction
            if committed.transaction in self._seen:
                self._mark(self._seen[committed.transaction], PaymentState.ALLOCATED)
            self._set_status(ApplicationStatus.ALLOCATING)
            return committed.result
        self._accepting = False
        await self._settle_at_bank(payment)
        await self._close(ApplicationStatus.CANCELLED)
        await self._notify("cancelled", notices.CANCELLED)
        return None

    async def _settle_at_bank(self, payment: PaymentInstructions) -> None:
        """Void the order (the bank then refuses to take money for it) and ask the bank what it
        took (VNPay querydr): a payment whose callback is late is handled like a callback."""
        try:
            paid = await workflow.execute_activity_method(
                PaymentActivities.settle_order,
                SettleOrder(application_id=self._request.application_id, txn_ref=payment.txn_ref),
                summary="step 3: void the order and query the bank",
                **UNTIL_DONE,
            )
        except ActivityError as err:  # the bank refused the query: its IPN and reconcile remain
            workflow.logger.warning("order not settled at the bank: %s", _cause(err))
            return
        for found in paid:
            self._hear(found)

    async def _refund_unallocated(self) -> None:
        """Before the run ends: every paid transaction that is not the allocated one goes back,
        including those that arrived while the application closed."""
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            owed = [
                p
                for p in self._payments
                if transaction_key(p) != self._allocated
                and self._outcome(p) not in (PaymentState.REFUNDED, PaymentState.ALLOCATED)
                and not self._refund_tried(p)
            ]
            if not owed:
                return
            for p in owed:
                self._refund_attempted.add(transaction_key(p))
                try:
                    done = await workflow.execute_activity_method(
                        PaymentActivities.refund_payment,
                        RefundInput(
                            application_id=self._request.application_id,
                            payment=p,
                            reason=self._view.status.value,
                        ),
                        summary="refund a payment not allocated",
                        **UNTIL_DONE,
                    )
                except ActivityError as err:
                    done = RefundResult(state="rejected", detail=f"refund failed: {_cause(err)}")
                if done.state == "allocated":
                    self._mark(p, PaymentState.ALLOCATED)
                elif done.state == "refunded":
                    self._mark(p, PaymentState.REFUNDED, done.detail)
                elif done.state == "in_process":  # settled for the run: the worker's follower takes it on
                    self._mark(p, PaymentState.REFUND_PENDING, done.detail)
                else:
                    workflow.logger.warning("refund not made, operator needed: %s", done.detail)
                    self._mark(p, PaymentState.REFUND_DUE, done.detail)

    def _refund_tried(self, payment: PaymentReceived) -> bool:
        return transaction_key(payment) in self._refund_attempted

    # ---- handlers ------------------------------------------------------------------------

    @workflow.signal(name=SIGNAL_PAYMENT_RECEIVED)
    def payment_received(self, payment: PaymentReceived) -> None:
        """The verified bank callback. Duplicates and failed payments change nothing; money for
        an application that no longer takes it is refunded before the run ends."""
        if not payment.is_paid:
            self._view.ignored_callbacks += 1
            return
        self._hear(payment)

    def _hear(self, payment: PaymentReceived) -> None:
        key = transaction_key(payment)
        known = self._seen.get(key)
        if known is not None:
            self._view.ignored_callbacks += 1
            if not same_content(known, payment):
                workflow.logger.warning("bank transaction %s reported again with other content", key)
            return
        self._seen[key] = payment
        self._payments.append(payment)
        if self._accepting:
            self._mark(payment, PaymentState.PROCESSING)
        else:
            workflow.logger.warning("payment for a closed or paid application: refunded before the run ends")
            self._mark(payment, PaymentState.REFUND_DUE, f"application {self._view.status.value}")

    @workflow.signal(name=SIGNAL_CANCEL)
    def cancel(self) -> None:
        if self._view.status in CANCELLABLE and self._accepting:
            self._cancel_requested = True
        else:
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
        """The operator's decision on a payment review; answers once the run acted on it."""
        self._decision = decision
        await workflow.wait_condition(
            lambda: self._decision is None and self._view.status != ApplicationStatus.PAYMENT_REVIEW
        )
        return self._view

    @resolve_review.validator
    def _validate_review(self, decision: ReviewDecision) -> None:
        if self._view.status != ApplicationStatus.PAYMENT_REVIEW:
            raise ValueError(f"status: the application is {self._view.status.value}, not in payment review")
        if self._decision is not None:
            raise ValueError("decision: another decision is being carried out")
        if decision.action == "accept":
            chosen = self._seen.get(decision.transaction or "")
            if chosen is None:
                raise ValueError("transaction: no paid transaction with this number for the application")
            quote = self._view.quote
            if quote is None or chosen.amount != quote.total:
                raise ValueError("transaction: its amount differs from the quote; refund_and_cancel instead")
            if self._outcome(chosen) == PaymentState.REFUNDED:
                raise ValueError("transaction: already refunded")

    # ---- state changes -------------------------------------------------------------------

    def _has_new_payment(self) -> bool:
        return self._accepting and len(self._payments) > self._handled

    def _take_decision(self) -> ReviewDecision:
        decision = self._decision
        assert decision is not None
        self._decision = None
        workflow.logger.info("review decision: %s", decision.action)
        return decision

    def _chosen(self, payment: PaymentReceived) -> PaymentReceived:
        """The payment step 4 allocates: from now on no other payment is taken."""
        self._accepting = False
        self._view.paid_at = payment.pay_date
        self._set_status(ApplicationStatus.ALLOCATING)
        return payment

    def _mark(self, payment: PaymentReceived, state: PaymentState, reason: str | None = None) -> None:
        key = transaction_key(payment)
        others = [p for p in self._view.payments if p.transaction != key]
        self._view.payments = [*others, outcome_of(payment, state, reason)]

    def _outcome(self, payment: PaymentReceived) -> PaymentState | None:
        key = transaction_key(payment)
        return next((p.outcome for p in self._view.payments if p.transaction == key), None)

    def _set_status(self, status: ApplicationStatus, also: list[Any] | None = None) -> None:
        """The new status, in the view and in one search-attribute upsert (with `also`)."""
        self._view.status = status
        self._view.updated_at = workflow.now()
        workflow.upsert_search_attributes(
            [
                SA_RENEWAL_STATUS.value_set(status.value),
                SA_APPLICATION_ID.value_set(self._request.application_id),
                *(also or []),
            ]
        )

    def _record_checks(self, checks: list[MemberCheck]) -> None:
        self._view.members = [
            MemberOutcome(card_number=c.card_number, result="pending")
            if c.eligible
            else MemberOutcome(
                card_number=c.card_number, result="ineligible", reason=c.reason, message=c.message
            )
            for c in checks
        ]

    def _record_allocation(self, result: AllocateResult) -> None:
        renewed = {a.card_number: a for a in result.allocations}
        self._view.receipt = result.receipt
        self._view.members = [
            m.model_copy(
                update={
                    "result": "renewed",
                    "valid_from": renewed[m.card_number].valid_from,
                    "valid_to": renewed[m.card_number].valid_to,
                }
            )
            if m.card_number in renewed
            else m
            for m in self._view.members
        ]

    async def _reject(self, message: str) -> None:
        self._view.rejection_message = message
        self._accepting = False
        await self._close(ApplicationStatus.REJECTED)
        await self._notify("rejected", message)

    async def _to_review(self, reason: str) -> None:
        first_time = self._view.status != ApplicationStatus.PAYMENT_REVIEW
        self._view.review_reason = reason
        self._cancel_requested = False  # a cancel never decides a review: resolve_review does
        self._set_status(ApplicationStatus.PAYMENT_REVIEW)
        # the cards stay reserved while an operator reviews: only the recorded status changes
        if self._local_steps:
            # one activity writes the status with its notice; a second reason while already in
            # review changes nothing in the records, so nothing is written
            if first_time:
                await workflow.execute_activity_method(
                    DeclarationActivities.enter_review,
                    EnterReview(application_id=self._request.application_id, notice=notices.PAYMENT_REVIEW),
                    summary="mark payment review, tell the declarant",
                    **UNTIL_DONE,
                )
            return
        await workflow.execute_activity_method(
            DeclarationActivities.set_status,
            CloseApplication(
                application_id=self._request.application_id, status=ApplicationStatus.PAYMENT_REVIEW
            ),
            summary="mark payment review",
            **UNTIL_DONE,
        )
        if first_time:
            await self._notify("payment_review", notices.PAYMENT_REVIEW)

    async def _close(self, status: ApplicationStatus) -> None:
        """The status changes first, so a payment heard while the records close is refunded."""
        if status != ApplicationStatus.COMPLETED:
            self._accepting = False
        self._set_status(status)
        await workflow.execute_activity_method(
            DeclarationActivities.close_application,
            CloseApplication(application_id=self._request.application_id, status=status),
            summary=f"close application: {status.value}",
            **UNTIL_DONE,
        )

    async def _notify(self, kind: str, message: str, **payload: str | int | None) -> None:
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
                    payload=payload,
                ),
                summary=f"notify declarant: {kind}",
                **NOTICE,
            )
        except ActivityError as err:
            workflow.logger.warning("notice %s not recorded: %s", kind, _cause(err))


def _cause(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return type(cause).__name__ if cause else "activity failed"


def _error_type(err: ActivityError) -> str | None:
    cause = err.cause
    return cause.type if isinstance(cause, ApplicationError) else None
