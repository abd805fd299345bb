"""What the repository takes and gives besides the domain models: plain, serialisable records.

They are pydantic models so an activity can return them through Temporal's data converter
unchanged, and so a caller may pass a dict where a nested domain model is expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.models import Allocation, Declaration, PaymentReceived, Quote, QuoteLine, Receipt


class ApplicationRecord(BaseModel):
    """One household application as the BHXH database keeps it (personal data included)."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    status: str
    household_code: str | None = None
    province_code: str | None = None
    member_count: int = 0
    declaration: Declaration | None = None
    quote: Quote | None = None
    txn_ref: str | None = None
    amount: int | None = None
    deadline: datetime | None = None
    allocated_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class AllocationRequest(BaseModel):
    """Step 4's input: the verified payment and the quote lines it pays for."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    household_code: str
    payer_name: str
    series: str
    payment: PaymentReceived
    payment_date: date = Field(description="Vietnam date of the payment: decides validity and fiscal year")
    lines: list[QuoteLine] = Field(min_length=1)


class AllocationResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    receipt: Receipt
    allocations: list[Allocation]


class ContributionIn(BaseModel):
    """One `household_contributions` entry of the reference data file (DESIGN §6)."""

    model_config = ConfigDict(extra="ignore")

    bhxh_number: str
    household_code: str
    fiscal_year: int
    paid_on: date
    months: int
    position: int = Field(ge=1)
    amount: int = Field(ge=0)
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class LoadSummary:
    participants_inserted: int = 0
    participants_updated: int = 0
    participants_unchanged: int = 0
    contributions_inserted: int = 0
    contributions_updated: int = 0
    contributions_unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.participants_inserted
            or self.participants_updated
            or self.contributions_inserted
            or self.contributions_updated
        )
