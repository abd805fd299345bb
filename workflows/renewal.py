"""`HouseholdRenewal`: one durable run per household application, read as the procedure.

Step 1 records the declaration; step 2 verifies residence and participation and quotes the
amount (the `quote` update returns here, so update-with-start answers in one round trip);
step 3 waits for the bank's `payment_received` signal until the deadline or a `cancel`;
step 4 reconciles and allocates; step 5 tells each participant. Every branch ends by closing
the application in the BHXH records, which frees its cards.

Determinism: time comes from `workflow.now()`, all I/O from activities. What operators see
(search attributes, failure messages) holds codes and amounts only, never personal data.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.errors import NON_RETRYABLE
    from activities.inputs import (
        AllocateInput,
        AllocateResult,
        CloseApplication,
        NoticeRequest,
        OpenPayment,
        ParticipationInput,
        QuoteRequest,
        ReconcileInput,
        ResidenceInput,
        ResultNotices,
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
        WORKFLOW_TYPE,
    )

# Retry policies by what the activity calls. Business answers are non-retryable by type;
# outages (database, registry, bank, webhook) are retried with backoff until the schedule ends.
OUTAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=NON_RETRYABLE,
)
DATABASE = dict(
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(hours=1),
    retry_policy=OUTAGE_RETRY,
)
CLOSING = dict(
    # the final status and the freed cards must reach the records: retry until the database answers
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=OUTAGE_RETRY,
)
REGISTRY = dict(
    start_to_close_timeout=timedelta(seconds=20),
    schedule_to_close_timeout=timedelta(minutes=30),
    retry_policy=OUTAGE_RETRY,
)
BANK = dict(
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(minutes=30),
    retry_policy=OUTAGE_RETRY,
)
ALLOCATION = dict(
    # money has been received: keep trying for a day rather than lose the allocation
    start_to_close_timeout=timedelta(seconds=60),
    schedule_to_close_timeout=timedelta(days=1),
    retry_policy=OUTAGE_RETRY,
)
NOTICE = dict(
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(days=1),
    retry_policy=OUTAGE_RETRY,
)

ACCEPTS_CANCEL = (
    ApplicationStatus.VERIFYING,
    ApplicationStatus.AWAITING_PAYMENT,
    ApplicationStatus.PAYMENT_REVIEW,
)


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
        self._payments: list[PaymentReceived] = []
        self._handled = 0  # payments already looked at by step 3
        self._seen_transactions: set[str] = set()
        self._cancel_requested = False

    # ---- the procedure -------------------------------------------------------------------

    @workflow.run
    async def run(self, request: RenewalInput) -> ApplicationView:
        try:
            await self._run()
        finally:
            await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view

    async def _run(self) -> None:
        request = self._request
        application_id = request.application_id

        # Step 1 — kê khai
        try:
            await workflow.execute_activity_method(
                DeclarationActivities.record_declaration,
                request,
                summary="step 1: record declaration",
                **DATABASE,
            )
        except ActivityError as err:
            return await self._reject(f"Tờ khai không hợp lệ ({_cause(err)})")

        # Step 2 — xác thực & tính tiền (and the payment order of step 3)
        try:
            quoted = await self._verify_and_quote()
        except ActivityError as err:
            # an outside system stayed down past the retry window: the declarant may declare again
            workflow.logger.warning("verification failed: %s", _cause(err))
            return await self._reject(VERIFICATION_UNAVAILABLE)
        if quoted is None:
            return
        household_code, quote, payment = quoted
        self._view.quote = quote
        self._view.payment = payment
        workflow.upsert_search_attributes(
            [
                SA_TOTAL_AMOUNT.value_set(quote.total),
                SA_MEMBER_COUNT.value_set(len(quote.lines)),
                SA_PROVINCE_CODE.value_set(quote.lines[0].province_code),
            ]
        )
        self._set_status(ApplicationStatus.AWAITING_PAYMENT)
        await self._notify("payment_due", notices.payment_due(quote, payment), amount=quote.total)

        # Step 3 — nộp tiền: wait for a matching payment, the deadline, or a cancel
        paid = await self._await_payment(quote, payment)
        if paid is None:
            return

        # Step 4 — phân bổ (a refusal by the records sends the money to an operator, never lost)
        self._set_status(ApplicationStatus.ALLOCATING)
        try:
            result = await self._allocate(household_code, quote, paid)
        except ActivityError as err:
            await self._to_review(f"allocation_refused: {_cause(err)}")
            await workflow.wait_condition(lambda: self._cancel_requested)
            return await self._close(ApplicationStatus.CANCELLED)
        self._record_allocation(result)

        # Step 5 — trả kết quả (the cards are already extended: a notice outage must not undo that)
        try:
            await workflow.execute_activity_method(
                ResultActivities.notify_participants,
                ResultNotices(
                    application_id=application_id,
                    receipt_label=result.receipt.label,
                    allocations=result.allocations,
                ),
                summary="step 5: notify participants",
                **NOTICE,
            )
        except ActivityError as err:
            workflow.logger.warning("participant notices not delivered: %s", _cause(err))
        await self._close(ApplicationStatus.COMPLETED)

    async def _verify_and_quote(self) -> tuple[str, Quote, PaymentInstructions] | None:
        """Steps 2a–2c and the payment order; None when the application was rejected."""
        # Step 2a — residence in the National Population Database
        residence = await workflow.execute_activity_method(
            VerificationActivities.verify_residence,
            ResidenceInput(
                application_id=self._request.application_id,
                head_personal_id=self._request.declaration.head.personal_id,
                card_numbers=[m.card_number for m in self._request.declaration.members],
                head=self._request.declaration.head,
            ),
            summary="step 2a: verify residence",
            **REGISTRY,
        )
        if residence.household_code is None:
            # a person twice, an unverified head or the household's open application; else residence
            self._view.open_application_id = residence.open_application_id
            await self._reject(residence.rejection or RESIDENCE_MISMATCH)
            return None
        self._view.household_code = residence.household_code

        # Step 2b — participation in the BHXH database, per member
        checks = await workflow.execute_activity_method(
            VerificationActivities.check_participation,
            ParticipationInput(
                application_id=self._request.application_id, members=self._request.declaration.members
            ),
            summary="step 2b: check participation",
            **REGISTRY,
        )
        self._record_checks(checks)
        if not any(c.eligible for c in checks):
            await self._reject(NO_ELIGIBLE_MEMBER)
            return None

        # Step 2c — the quote, binding until the payment deadline
        quote_date = vietnam_date(workflow.now())
        quote = await workflow.execute_activity_method(
            VerificationActivities.compute_quote,
            QuoteRequest(
                application_id=self._request.application_id,
                household_code=residence.household_code,
                quote_date=quote_date,
                members=self._request.declaration.members,
                checks=checks,
            ),
            summary="step 2c: compute quote",
            **DATABASE,
        )
        deadline = workflow.now() + timedelta(seconds=self._request.payment_deadline_seconds)
        payment = await workflow.execute_activity_method(
            PaymentActivities.open_payment,
            OpenPayment(
                application_id=self._request.application_id,
                household_code=residence.household_code,
                quote=quote,
                deadline=deadline,
            ),
            summary="step 3: open payment order",
            **BANK,
        )
        return residence.household_code, quote, payment

    async def _allocate(self, household_code: str, quote: Quote, paid: PaymentReceived) -> AllocateResult:
        return await workflow.execute_activity_method(
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
            **ALLOCATION,
        )

    async def _await_payment(self, quote: Quote, payment: PaymentInstructions) -> PaymentReceived | None:
        """Step 3's loop. Returns the payment to allocate, or None once the application has ended."""
        while True:
            ready = lambda: len(self._payments) > self._handled or self._cancel_requested  # noqa: E731
            if self._view.status == ApplicationStatus.AWAITING_PAYMENT:
                remaining = payment.deadline - workflow.now()
                try:
                    await workflow.wait_condition(ready, timeout=max(remaining, timedelta(seconds=1)))
                except TimeoutError:
                    await self._close(ApplicationStatus.EXPIRED)
                    await self._notify("expired", notices.expired(payment))
                    return None
            else:  # payment_review: an operator decides; no deadline
                await workflow.wait_condition(ready)

            if len(self._payments) > self._handled:
                candidate = self._payments[self._handled]
                self._handled += 1
                mismatch = payment_mismatch(candidate, txn_ref=payment.txn_ref, amount=quote.total)
                reason = None if mismatch is None else mismatch.reason
                if reason is None:
                    reason = await workflow.execute_activity_method(
                        AllocationActivities.reconcile_payment,
                        ReconcileInput(application_id=self._request.application_id, payment=candidate),
                        summary="step 4: reconcile with the bank",
                        **BANK,
                    )
                if reason is None:
                    self._view.paid_at = candidate.pay_date
                    return candidate
                await self._to_review(reason)
                continue

            # a cancel, and no payment to look at
            await self._close(ApplicationStatus.CANCELLED)
            await self._notify("cancelled", notices.CANCELLED)
            return None

    # ---- handlers ------------------------------------------------------------------------

    @workflow.signal(name=SIGNAL_PAYMENT_RECEIVED)
    def payment_received(self, payment: PaymentReceived) -> None:
        """The verified bank callback. Duplicates and failed payments change nothing."""
        key = payment.transaction_no or payment.bank_tran_no
        if not payment.is_paid or key in self._seen_transactions:
            self._view.ignored_callbacks += 1
            return
        self._seen_transactions.add(key)
        if (
            self._view.status in (ApplicationStatus.ALLOCATING, ApplicationStatus.COMPLETED)
            or self._view.status.is_final
        ):
            # money arrived for an application that is already paid or closed: an operator refunds it
            self._view.ignored_callbacks += 1
            workflow.logger.warning("payment for a closed or paid application: operator review needed")
            return
        self._payments.append(payment)

    @workflow.signal(name=SIGNAL_CANCEL)
    def cancel(self) -> None:
        if self._view.status in ACCEPTS_CANCEL:
            self._cancel_requested = True

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> ApplicationView:
        return self._view

    @workflow.update(name=UPDATE_QUOTE)
    async def quote(self) -> ApplicationView:
        """Returns once step 2 is over: the quote with payment instructions, or the rejection."""
        await workflow.wait_condition(lambda: self._view.status != ApplicationStatus.VERIFYING)
        return self._view

    # ---- state changes -------------------------------------------------------------------

    def _set_status(self, status: ApplicationStatus) -> None:
        self._view.status = status
        self._view.updated_at = workflow.now()
        workflow.upsert_search_attributes(
            [
                SA_RENEWAL_STATUS.value_set(status.value),
                SA_APPLICATION_ID.value_set(self._request.application_id),
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
        await self._close(ApplicationStatus.REJECTED)
        await self._notify("rejected", message)

    async def _to_review(self, reason: str) -> None:
        first_time = self._view.status != ApplicationStatus.PAYMENT_REVIEW
        self._view.review_reason = reason
        self._set_status(ApplicationStatus.PAYMENT_REVIEW)
        # the cards stay reserved while an operator reviews: only the recorded status changes
        await workflow.execute_activity_method(
            DeclarationActivities.set_status,
            CloseApplication(
                application_id=self._request.application_id, status=ApplicationStatus.PAYMENT_REVIEW
            ),
            summary="mark payment review",
            **DATABASE,
        )
        if first_time:
            await self._notify("payment_review", notices.PAYMENT_REVIEW)

    async def _close(self, status: ApplicationStatus) -> None:
        await workflow.execute_activity_method(
            DeclarationActivities.close_application,
            CloseApplication(application_id=self._request.application_id, status=status),
            summary=f"close application: {status.value}",
            **CLOSING,
        )
        self._set_status(status)

    async def _notify(self, kind: str, message: str, **payload: str | int | None) -> None:
        """A notice that cannot be delivered within a day stays pending in the outbox; the
        application goes on (Notifier.retry_pending delivers it later)."""
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
            workflow.logger.warning("notice %s not delivered: %s", kind, _cause(err))


def _cause(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return type(cause).__name__ if cause else "activity failed"
