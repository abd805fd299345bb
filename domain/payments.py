"""Where each bank transaction's money stands, and the operator's decisions on it (issue 10).

The invariant (README, operator section): every bank transaction with money is, at every
moment, exactly one of — allocated once to its application; being processed by an open run;
waiting for an operator (payment review); refund due, or refunded. `PaymentState` names those
states as the workflow, the API and `reconcile` show them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.models import PaymentReceived


class PaymentState(StrEnum):
    PROCESSING = "processing"
    """An open run is matching it (bounded: it is allocated, reviewed or refunded next)."""
    ALLOCATED = "allocated"
    """The one transaction allocated to its application."""
    UNDER_REVIEW = "under_review"
    """An operator decides: accept it (a corrected transfer) or refund and cancel."""
    REFUND_DUE = "refund_due"
    """Not allocated and the application no longer takes it: owed back."""
    REFUND_PENDING = "refund_pending"
    """The bank has the refund request and is processing it (VNPay status 05/06)."""
    REFUNDED = "refunded"
    """The bank confirmed the full refund."""


NEVER_OPENED_GRACE = timedelta(hours=24)
"""VNPay answers querydr "not found" (91) for an order whose pay page was never opened: the
merchant builds the pay URL, and VNPay only records a transaction once the household opens it
(then it answers 00 with status 01, or the payment). A 91 can also be transient, so before the
deadline it is asked again; once the URL expired (vnp_ExpireDate = the deadline) and this grace
passed, no payment can exist that the bank does not show, and the order was never paid."""


def never_opened(deadline: datetime | None, asked_at: datetime) -> bool:
    """A querydr "not found" at `asked_at` means the order was never opened at the bank."""
    return deadline is not None and asked_at >= deadline + NEVER_OPENED_GRACE


def transaction_key(payment: PaymentReceived) -> str:
    """The bank's identity of a transaction: vnp_TransactionNo, else bank code + bank number.

    vnp_BankTranNo alone is not unique (each bank numbers its own transfers)."""
    if payment.transaction_no:
        return payment.transaction_no
    return f"{payment.bank_code}:{payment.bank_tran_no}"


def same_content(a: PaymentReceived, b: PaymentReceived) -> bool:
    """Two callbacks with one transaction identity describe the same payment only if they agree
    on what matters for money: order, amount, outcome, bank number and time."""
    fields = ("txn_ref", "amount", "bank_code", "bank_tran_no", "response_code", "transaction_status")
    return all(getattr(a, f) == getattr(b, f) for f in fields) and a.pay_date == b.pay_date


def refund_request_id(payment: PaymentReceived) -> str:
    """vnp_RequestId of the refund of this transaction: stable, so a retried refund is the same
    request (the bank answers it once) and never a second refund. Alphanumeric, at most 32."""
    key = "".join(ch for ch in transaction_key(payment) if ch.isalnum())
    return ("RF" + key)[:32]


class PaymentOutcome(BaseModel):
    """One bank transaction of an application, as callers see it (no personal data)."""

    transaction: str = Field(description="the bank's transaction identity (vnp_TransactionNo)")
    bank_code: str
    bank_tran_no: str
    amount: int = Field(description="đồng")
    pay_date: datetime
    outcome: PaymentState
    reason: str | None = None


def outcome_of(payment: PaymentReceived, state: PaymentState, reason: str | None = None) -> PaymentOutcome:
    return PaymentOutcome(
        transaction=transaction_key(payment),
        bank_code=payment.bank_code,
        bank_tran_no=payment.bank_tran_no,
        amount=payment.amount,
        pay_date=payment.pay_date,
        outcome=state,
        reason=reason,
    )


class ReviewDecision(BaseModel):
    """The operator's one action on an application in payment review (the `resolve_review` update).

    accept: allocate the named transaction (its amount must equal the quote; e.g. a corrected
    transfer, or a payment whose bank record an operator has checked by hand);
    refund_and_cancel: refund every payment of the application and cancel it.
    """

    model_config = ConfigDict(frozen=True)

    action: Literal["accept", "refund_and_cancel"]
    transaction: str | None = Field(None, description="for accept: the transaction to allocate")
    operator: str = Field("operator", max_length=64, description="who decided (an operator id, not a name)")
    override: bool = Field(False, description="accept a transaction the bank did not confirm (needs a reason)")
    reason: str | None = Field(None, min_length=3, max_length=200, description="why (kept with the decision)")

    @model_validator(mode="after")
    def _override_has_a_reason(self) -> ReviewDecision:
        if self.override and not self.reason:
            raise ValueError("reason: an override needs a reason")
        return self


def recorded_state(
    *, allocated: bool, refunded: bool, application_status: str | None, refund_pending: bool = False
) -> PaymentState:
    """Where a recorded paid transaction stands, by the invariant (the same rule `reconcile` uses)."""
    from domain.reconciliation import Finding, unallocated_finding

    if allocated:
        return PaymentState.ALLOCATED
    finding = unallocated_finding(application_status, refunded=refunded, refund_pending=refund_pending)
    return {
        Finding.REFUNDED: PaymentState.REFUNDED,
        Finding.REFUND_PENDING: PaymentState.REFUND_PENDING,
        Finding.IN_PROGRESS: PaymentState.PROCESSING,
        Finding.REVIEW: PaymentState.UNDER_REVIEW,
    }.get(finding, PaymentState.REFUND_DUE)
