"""In-memory stand-ins for the activities, registered under the real activity names.

They let the workflow tests drive every branch (deadline, cancel, mismatch, duplicates) on
the time-skipping server, and count the writes so a test can prove nothing ran twice.
The fee engine, the allocation (validity, revenue, receipt) and the verification code are
the production domain functions; only storage is in memory.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from temporalio import activity

from activities.errors import CANCEL_REQUESTED, DECLARATION_INVALID, business_error
from activities.inputs import (
    AllocateInput,
    AllocateResult,
    CloseApplication,
    CommittedAllocation,
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
from activities.step3_payment import txn_ref_for
from domain import notices
from domain.allocation import CardValidity, issue_receipt, plan_allocation
from domain.application import RenewalInput, vietnam_date
from domain.fees import QuoteInput, compute_quote
from domain.models import (
    ApplicationStatus,
    IneligibilityReason,
    MemberCheck,
    PaymentInstructions,
    PaymentReceived,
    Quote,
    Receipt,
)
from domain.validation import DeclarationInvalid, validate_declaration


@dataclass
class FakeBackend:
    household_code: str | None = "HN-BD-0001"
    ineligible_cards: set[str] = field(default_factory=set)
    paid_positions_before: int = 0
    current_valid_to: date | None = date(2026, 12, 31)
    reconcile_reason: str | None = None
    registry_refuses: bool = False
    notices_fail: bool = False
    declaration_outage: bool = False
    """record_declaration fails as an outage that outlasted its retries (non-retryable here)."""
    allocation_refused: bool = False
    allocation_committed: bool = False
    """read_allocation finds the allocation committed (its answer was lost)."""
    reconcile_outage: timedelta = timedelta(0)
    """reconcile_payment raises a retryable outage for this long (workflow time) first."""
    bank_paid: list[PaymentReceived] = field(default_factory=list)
    """What querydr finds at the bank when the order is voided."""
    refund_refused: set[str] = field(default_factory=set)
    gate: dict[str, asyncio.Event] = field(default_factory=dict)
    """Activity name → event it waits for before answering (to line up races)."""
    entered: dict[str, asyncio.Event] = field(default_factory=dict)
    cancel_requests: set[str] = field(default_factory=set)
    """Applications whose cancel is on record (the API writes it before signalling)."""
    orders_opened: int = 0
    refunds: list[str] = field(default_factory=list)
    voided: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    statuses: list[str] = field(default_factory=list)
    notices: list[NoticeRequest] = field(default_factory=list)
    receipts: dict[str, Receipt] = field(default_factory=dict)

    async def _hold(self, name: str) -> None:
        self.entered.setdefault(name, asyncio.Event()).set()
        if name in self.gate:
            await self.gate[name].wait()

    def activities(self) -> list:
        backend = self

        @activity.defn(name="record_declaration")
        async def record_declaration(request: RenewalInput) -> None:
            backend.calls["record_declaration"] += 1
            if backend.declaration_outage:
                raise business_error("OperationalError", "database unavailable")
            try:
                validate_declaration(request.declaration, today=vietnam_date(request.submitted_at))
            except DeclarationInvalid:
                raise business_error(DECLARATION_INVALID, "invalid fields") from None

        @activity.defn(name="set_status")
        async def set_status(request: CloseApplication) -> None:
            backend.statuses.append(request.status.value)

        @activity.defn(name="enter_review")
        async def enter_review(request: EnterReview) -> None:
            backend.calls["enter_review"] += 1
            backend.statuses.append(ApplicationStatus.PAYMENT_REVIEW.value)
            backend.notices.append(
                NoticeRequest(
                    application_id=request.application_id,
                    kind="payment_review",
                    recipient="declarant",
                    message=request.notice,
                )
            )

        @activity.defn(name="close_application")
        async def close_application(request: CloseApplication) -> None:
            backend.calls["close_application"] += 1
            backend.statuses.append(request.status.value)
            await backend._hold("close_application")

        @activity.defn(name="settle_order")
        async def settle_order(request: SettleOrder) -> list[PaymentReceived]:
            backend.calls["settle_order"] += 1
            backend.voided += 1
            await backend._hold("settle_order")
            return list(backend.bank_paid)

        @activity.defn(name="refund_payment")
        async def refund_payment(request: RefundInput) -> RefundResult:
            backend.calls["refund_payment"] += 1
            key = request.payment.transaction_no
            if key in backend.refund_refused:
                return RefundResult(state="rejected", detail="bank answer 95")
            if key not in backend.refunds:
                backend.refunds.append(key)
            return RefundResult(state="refunded", detail="bank answer 00")

        @activity.defn(name="read_allocation")
        async def read_allocation(application_id: str) -> CommittedAllocation | None:
            backend.calls["read_allocation"] += 1
            if not backend.allocation_committed:
                return None
            receipt = backend.receipts.get(application_id) or Receipt(
                series="BH26", number=1, year=2026, issued_on=date(2026, 11, 24), payer_name="x",
                lines=[], total=0, total_in_words="", txn_ref="", bank_tran_no="", verification_code="X",
            )  # fmt: skip
            return CommittedAllocation(
                result=AllocateResult(receipt=receipt, allocations=[]), transaction="14000001"
            )

        @activity.defn(name="verify_residence")
        async def verify_residence(request: ResidenceInput) -> ResidenceResult:
            backend.calls["verify_residence"] += 1
            await backend._hold("verify_residence")
            if backend.registry_refuses:
                raise business_error("RegistryBadRequest", "registry refused the lookup")
            return ResidenceResult(
                household_code=backend.household_code, people_checked=len(request.card_numbers) + 1
            )

        @activity.defn(name="check_participation")
        async def check_participation(request: ParticipationInput) -> list[MemberCheck]:
            backend.calls["check_participation"] += 1
            return [
                MemberCheck(
                    card_number=m.card_number,
                    eligible=False,
                    reason=IneligibilityReason.NOT_HOUSEHOLD_GROUP,
                    message="Thẻ BHYT không thuộc nhóm hộ gia đình",
                )
                if m.card_number in backend.ineligible_cards
                else MemberCheck(card_number=m.card_number, eligible=True, bhxh_number=m.card_number[-10:])
                for m in request.members
            ]

        @activity.defn(name="compute_quote")
        async def compute_quote_(request: QuoteRequest) -> Quote:
            backend.calls["compute_quote"] += 1
            eligible = {c.card_number for c in request.checks if c.eligible}
            inputs = [
                QuoteInput(
                    card_number=m.card_number,
                    bhxh_number=m.card_number[-10:],
                    member_name=m.full_name,
                    months=m.months,
                    current_valid_to=backend.current_valid_to,
                    office_code="BHXH-HN-BD",
                    province_code="01",
                )
                for m in request.members
                if m.card_number in eligible
            ]
            return compute_quote(
                inputs, paid_positions_before=backend.paid_positions_before, quote_date=request.quote_date
            )

        @activity.defn(name="open_payment")
        async def open_payment(request: OpenPayment) -> PaymentInstructions:
            backend.calls["open_payment"] += 1
            if request.unless_cancelled and request.application_id in backend.cancel_requests:
                raise business_error(CANCEL_REQUESTED, "the declarant cancelled before the order")
            backend.orders_opened += 1
            instructions = PaymentInstructions(
                txn_ref=txn_ref_for(request.application_id),
                amount=request.quote.total,
                pay_url="http://bank.test/pay",
                deadline=request.deadline,
                merchant_code="TEST",
            )
            if request.tell_declarant:
                backend.notices.append(
                    NoticeRequest(
                        application_id=request.application_id,
                        kind="payment_due",
                        recipient="declarant",
                        message=notices.payment_due(request.quote, instructions),
                        payload={"amount": request.quote.total},
                    )
                )
            return instructions

        @activity.defn(name="reconcile_payment")
        async def reconcile_payment(request: ReconcileInput) -> str | None:
            backend.calls["reconcile_payment"] += 1
            info = activity.info()
            if info.current_attempt_scheduled_time - info.scheduled_time < backend.reconcile_outage:
                raise RuntimeError("bank unavailable")
            return backend.reconcile_reason

        @activity.defn(name="allocate")
        async def allocate(request: AllocateInput) -> AllocateResult:
            """The production rules (`domain.allocation`) over in-memory cards; a replay returns the first receipt."""
            backend.calls["allocate"] += 1
            await backend._hold("allocate")
            if backend.allocation_refused:
                raise business_error("AllocationError", "records refused the allocation")
            paid_on = vietnam_date(request.payment.pay_date)
            cards = {
                line.bhxh_number: CardValidity(
                    bhxh_number=line.bhxh_number,
                    office_code=line.office_code,
                    valid_from=None,
                    valid_to=backend.current_valid_to,
                )
                for line in request.lines
            }
            plan = plan_allocation(
                request.lines, cards, household_code=request.household_code, payment_date=paid_on
            )
            receipt = backend.receipts.get(request.application_id)
            if receipt is None:
                receipt = backend.receipts[request.application_id] = issue_receipt(
                    plan,
                    application_id=request.application_id,
                    series=request.receipt_series,
                    number=len(backend.receipts) + 1,
                    issued_on=paid_on,
                    payer_name=request.payer_name,
                    payment=request.payment,
                )
            return AllocateResult(receipt=receipt, allocations=plan.allocations)

        @activity.defn(name="notify_participants")
        async def notify_participants(request: ResultNotices) -> int:
            backend.calls["notify_participants"] += 1
            if backend.notices_fail:
                raise business_error("NotificationRejectedError", "webhook refused")
            return len(request.allocations)

        @activity.defn(name="complete_application")
        async def complete_application(request: ResultNotices) -> int:
            backend.calls["complete_application"] += 1
            backend.statuses.append(ApplicationStatus.COMPLETED.value)
            await backend._hold("complete_application")
            return len(request.allocations)

        @activity.defn(name="send_notice")
        async def send_notice(request: NoticeRequest) -> bool:
            backend.notices.append(request)
            await backend._hold(f"send_notice:{request.kind}")
            if backend.notices_fail:
                raise business_error("NotificationRejectedError", "webhook refused")
            return True

        return [
            record_declaration,
            set_status,
            enter_review,
            close_application,
            verify_residence,
            check_participation,
            compute_quote_,
            open_payment,
            settle_order,
            refund_payment,
            read_allocation,
            reconcile_payment,
            allocate,
            notify_participants,
            complete_application,
            send_notice,
        ]
