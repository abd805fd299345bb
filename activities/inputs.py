"""Payloads of the activities: the contract between the workflow and its steps.

They are pydantic models (serialised by `pydantic_data_converter`) and hold what each step
needs and nothing more, since every payload is kept in the workflow history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from domain.models import (
    Allocation,
    ApplicationStatus,
    Head,
    Member,
    MemberCheck,
    PaymentReceived,
    Quote,
    QuoteLine,
    Receipt,
)


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True)


class CloseApplication(_Input):
    application_id: str
    status: ApplicationStatus


class EnterReview(_Input):
    """Payment review, recorded with its notice to the declarant in one activity (issue 12)."""

    application_id: str
    notice: str


class ResidenceInput(_Input):
    application_id: str
    head_personal_id: str
    card_numbers: list[str]
    head: Head | None = None
    """The declared head, checked against the population registry (absent in older histories)."""


class ResidenceResult(_Input):
    """`household_code` None means rejected: with `rejection` (else the residence mismatch)."""

    household_code: str | None
    people_checked: int
    rejection: str | None = None
    open_application_id: str | None = None
    """Set when the household already has an application in progress (that one's id)."""


class ParticipationInput(_Input):
    application_id: str
    members: list[Member]


class QuoteRequest(_Input):
    application_id: str
    household_code: str
    quote_date: date
    members: list[Member]
    checks: list[MemberCheck]


class OpenPayment(_Input):
    application_id: str
    household_code: str
    quote: Quote
    deadline: datetime


class ReconcileInput(_Input):
    application_id: str
    payment: PaymentReceived


class AllocateInput(_Input):
    application_id: str
    household_code: str
    payer_name: str
    receipt_series: str
    payment: PaymentReceived
    lines: list[QuoteLine]


class AllocateResult(_Input):
    receipt: Receipt
    allocations: list[Allocation]


class NoticeRequest(_Input):
    application_id: str
    kind: str
    recipient: str
    message: str
    payload: dict[str, str | int | None] = {}


class ResultNotices(_Input):
    application_id: str
    receipt_label: str
    allocations: list[Allocation]


class SettleOrder(_Input):
    """Ask the bank what was paid for the order (querydr) before the application closes unpaid."""

    application_id: str
    txn_ref: str
    opened_at: datetime | None = None
    """When the order was opened (PaymentInstructions.opened_at): querydr's vnp_TransactionDate."""
    deadline: datetime | None = None
    """The order's payment deadline (PaymentInstructions.deadline): after it, and a grace, VNPay's
    "not found" means the pay page was never opened (domain.payments.NEVER_OPENED_GRACE)."""


class RefundInput(_Input):
    application_id: str
    payment: PaymentReceived
    reason: str


class RefundResult(_Input):
    state: Literal["refunded", "in_process", "rejected", "allocated"]
    detail: str
    """The bank's answer code and message, or why it was not sent (codes only)."""

    @model_validator(mode="before")
    @classmethod
    def _recorded_before_issue_20(cls, data: Any) -> Any:
        """Histories recorded before issue 20 hold `refunded: bool`: read as the state it meant."""
        if isinstance(data, dict) and "state" not in data and "refunded" in data:
            data = dict(data)
            refunded = data.pop("refunded")
            allocated = str(data.get("detail", "")).startswith("allocated")
            data["state"] = "allocated" if allocated else ("refunded" if refunded else "rejected")
        return data


class CommittedAllocation(_Input):
    """An allocation found committed in the records, with the transaction it used."""

    result: AllocateResult
    transaction: str
