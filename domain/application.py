"""The application as callers see it, and the input that starts its workflow.

The workflow owns the application's state; the rules it applies on a payment are in
`domain.allocation`, so they are tested without Temporal and the workflow reads like the procedure.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.models import (
    ApplicationStatus,
    Declaration,
    MemberOutcome,
    PaymentInstructions,
    Quote,
    Receipt,
)
from domain.payments import PaymentOutcome

VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")


class RenewalInput(BaseModel):
    """What starts a `HouseholdRenewal` run. Configuration travels here because workflows can't read it."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    declaration: Declaration
    submitted_at: datetime
    payment_deadline_seconds: int = Field(gt=0)
    receipt_series: str
    payment_margin_seconds: int = Field(0, ge=0)
    """The bank order expires this long before the run's deadline, so a payment authorised at
    the bank's last second still reaches the run (IPN or order query) before it expires."""


class ApplicationView(BaseModel):
    """The answer of the `status` query and of the `quote` update: the application as it stands."""

    application_id: str
    status: ApplicationStatus
    submitted_at: datetime
    updated_at: datetime
    household_code: str | None = None
    members: list[MemberOutcome] = []
    quote: Quote | None = None
    payment: PaymentInstructions | None = None
    rejection_message: str | None = None
    open_application_id: str | None = Field(
        default=None, description="on rejection: the household's application already in progress"
    )
    review_reason: str | None = None
    receipt: Receipt | None = None
    paid_at: datetime | None = None
    ignored_callbacks: int = 0
    payments: list[PaymentOutcome] = []
    """Every paid bank transaction of the application, with where its money stands."""
    addressee: str | None = Field(
        default=None,
        description="the declarant the quote, the notices and the receipt are addressed to (the head when none was named)",
    )


class DeliveryView(BaseModel):
    """One notice on one channel (issue 22): its own state, attempts and next attempt."""

    channel: Literal["webhook", "email", "sms"]
    status: Literal["pending", "retrying", "delivered", "rejected"] = Field(
        description="pending: not tried yet; retrying: failed, next attempt scheduled (backoff); "
        "delivered: the channel took it; rejected: refused for good (no further attempt)"
    )
    attempts: int
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = Field(default=None, description="a code (HTTP 503, SMTP 550), never a text")


class NoticeView(BaseModel):
    """One notice of an application as the portal reads it (GET /renewals/{id}/notices)."""

    kind: str = Field(description="payment_due, rejected, expired, cancelled, payment_review or renewed")
    recipient: str = Field(
        description="'declarant', or the card number of the renewed participant the notice is about"
    )
    addressee: str | None = Field(
        default=None, description="the declarant the notice is addressed to (the head when none was named)"
    )
    message: str
    created_at: datetime
    status: Literal["pending", "retrying", "delivered", "rejected"] = Field(
        description="over its channels: delivered once every channel took it, retrying while one "
        "still tries after a failure, rejected when one refused it for good"
    )
    delivered_at: datetime | None = None
    deliveries: list[DeliveryView] = []


def vietnam_date(moment: datetime) -> date:
    """The calendar date in Vietnam (GMT+7) of an instant: validity and fiscal years use it."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(VIETNAM_TZ).date()
