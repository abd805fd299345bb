"""An operator's review decision as it is asked for, and the rule that guards `accept` (issue 20).

The operator is never named in the request: the API takes the name from the operator's own
token, `starter.py` from the token it is given. `accept` of a transaction the bank did not
confirm (step 4's bank check refused it) needs `override` with a reason, kept with the decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.payments import PaymentOutcome, ReviewDecision

BANK_UNCONFIRMED = ("bank_", "reconcile_refused")
"""Review reasons that mean the bank's own record did not confirm the transaction
(`domain.allocation.payment_mismatch`'s bank checks, or the check itself refused)."""


class ReviewRequest(BaseModel):
    """The body of `POST /api/v1/renewals/{id}/review`. An `operator` field is refused: the
    audit names the operator whose token made the call."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["accept", "refund_and_cancel"]
    transaction: str | None = Field(None, max_length=96, description="for accept: the transaction to allocate")
    override: bool = Field(False, description="accept a transaction the bank did not confirm (needs a reason)")
    reason: str | None = Field(None, min_length=3, max_length=200, description="why (kept with the decision)")

    def decision(self, operator: str) -> ReviewDecision:
        return ReviewDecision(
            action=self.action,
            transaction=self.transaction,
            operator=operator,
            override=self.override,
            reason=self.reason,
        )


def bank_confirmed(outcome: PaymentOutcome | None) -> bool:
    """False when the run put this transaction under review because of the bank's record."""
    reason = (outcome.reason or "") if outcome is not None else ""
    return not reason.startswith(BANK_UNCONFIRMED)


def refusal(decision: ReviewDecision, payments: Iterable[PaymentOutcome]) -> str | None:
    """Why this decision may not be sent (naming the field), or None."""
    if decision.action != "accept":
        return None
    chosen = next((p for p in payments if p.transaction == decision.transaction), None)
    if not bank_confirmed(chosen) and not decision.override:
        return "override: the bank did not confirm this transaction; accept it only with override and a reason"
    return None
