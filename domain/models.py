"""The vocabulary of the procedure (DESIGN §5): declaration, quote, payment, receipt, outcome.

These models cross every boundary (HTTP, Temporal payloads, database rows), so they hold
only plain data: no defaults that read a clock or draw a random number, because a model
built inside a workflow must be deterministic. Money is integer đồng everywhere.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    computed_field,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain.declarant import Channel, Declarant, head_as_declarant
from domain.messages import RENEWAL_SUCCESS
from domain.names import MAX_NAME_LENGTH, InvalidName, clean_name
from domain.relations import Relation, clean_relation_text, parse_relation

MAX_MEMBERS = 20
"""A household declaration lists at most this many members (a sane bound, not a legal one)."""

RENEWAL_MONTHS = (3, 6, 12)
"""Luật BHYT Điều 15 k6: «Định kỳ 3 tháng, 6 tháng hoặc 12 tháng»."""


def _clean_name(value: str) -> str:
    """Names arrive from many keyboards: NFC, single spaces, nothing invisible (domain.names)."""
    try:
        return clean_name(value)
    except InvalidName as exc:
        raise PydanticCustomError(exc.kind, str(exc)) from None


PersonName = Annotated[
    str,
    AfterValidator(_clean_name),
    Field(description=f"full name; letters, digits, spaces, apostrophes, hyphens, dots; at most {MAX_NAME_LENGTH} characters"),
]


def _compact(value: object) -> object:
    """Card and personal numbers are typed with spaces, no-break spaces and in lower case."""
    if isinstance(value, str):
        return "".join(value.split()).upper()
    return value


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Head(_Frozen):
    full_name: PersonName
    date_of_birth: date
    gender: Gender
    personal_id: Annotated[str, BeforeValidator(_compact)] = Field(
        description="số định danh cá nhân, 12 digits"
    )


class Member(_Frozen):
    card_number: Annotated[str, BeforeValidator(_compact)] = Field(
        description="BHYT card: 15-character, 10-digit BHXH number or 12-digit personal number "
        "(spaces and lower case accepted)"
    )
    full_name: PersonName
    date_of_birth: date
    gender: Gender
    relationship: Annotated[str, AfterValidator(clean_relation_text)] = Field(
        description="relationship to the head as written on the form (e.g. 'con dâu', 'mẹ vợ', 'bố'); "
        "known forms are normalised to a code, any other text is kept as 'khác'"
    )
    months: int = Field(description="renewal period: 3, 6 or 12 months")

    @property
    def relation(self) -> Relation:
        return parse_relation(self.relationship)


class Declaration(_Frozen):
    """Step 1 (kê khai): the household head and the members whose cards are renewed."""

    head: Head
    members: list[Member] = Field(min_length=1, max_length=MAX_MEMBERS)
    declarant: Declarant | None = Field(
        default=None, description="who declares, pays and is told (issue 22); absent: the head"
    )
    channel: Channel = Field(default=Channel.PORTAL, description="where the application came from")

    @property
    def the_declarant(self) -> Declarant:
        """The declarant named, else the head: whom the notices and the receipt address."""
        if self.declarant is not None:
            return self.declarant
        return head_as_declarant(self.head.full_name, self.head.personal_id)


class ApplicationStatus(StrEnum):
    VERIFYING = "verifying"
    AWAITING_PAYMENT = "awaiting_payment"
    ALLOCATING = "allocating"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    PAYMENT_REVIEW = "payment_review"

    @property
    def is_final(self) -> bool:
        """The run has ended: nothing about this application changes any more by itself."""
        return self in FINAL_STATUSES

    @property
    def is_open(self) -> bool:
        """The run is still deciding about the money (for a bounded time); a review is not open."""
        return self in OPEN_STATUSES

    @property
    def is_cancellable(self) -> bool:
        """The declarant may still cancel: no money was accepted yet."""
        return self in CANCELLABLE_STATUSES

    @property
    def is_paid(self) -> bool:
        """Money was accepted for the application (being allocated, allocated, or under review)."""
        return self in PAID_STATUSES


# The status sets, defined once here beside the type (issue 23); each member also answers
# `status.is_final`, `.is_open`, `.is_cancellable`, `.is_paid`. Members are `str`s, so a set
# also answers for a status read from a database row as a plain string.
FINAL_STATUSES: frozenset[ApplicationStatus] = frozenset(
    {
        ApplicationStatus.COMPLETED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.EXPIRED,
        ApplicationStatus.CANCELLED,
    }
)
"""The run has ended."""
CLOSED_UNPAID_STATUSES: frozenset[ApplicationStatus] = frozenset(
    {ApplicationStatus.REJECTED, ApplicationStatus.CANCELLED, ApplicationStatus.EXPIRED}
)
"""Ended without a payment accepted: money that comes now is owed back."""
OPEN_STATUSES: frozenset[ApplicationStatus] = frozenset(
    {ApplicationStatus.VERIFYING, ApplicationStatus.AWAITING_PAYMENT, ApplicationStatus.ALLOCATING}
)
"""An open run is still deciding about the money (for a bounded time)."""
CANCELLABLE_STATUSES: frozenset[ApplicationStatus] = frozenset(
    {ApplicationStatus.VERIFYING, ApplicationStatus.AWAITING_PAYMENT}
)
"""The declarant's cancel acts (before any money was accepted)."""
PAID_STATUSES: frozenset[ApplicationStatus] = frozenset(
    {ApplicationStatus.ALLOCATING, ApplicationStatus.COMPLETED, ApplicationStatus.PAYMENT_REVIEW}
)
"""Money was accepted: a cancel is refused as "already paid"."""


class IneligibilityReason(StrEnum):
    """Why a member cannot be renewed in the household form (step 2b)."""

    CARD_NOT_FOUND = "card_not_found"
    IDENTITY_MISMATCH = "identity_mismatch"
    NOT_HOUSEHOLD_GROUP = "not_household_group"
    IN_OTHER_APPLICATION = "in_other_application"
    DECEASED = "deceased"
    NOT_IN_REGISTRY = "not_in_registry"


class Residence(_Frozen):
    code: str
    address: str


class Citizen(_Frozen):
    """What the population registry knows of one person (the registry's answer)."""

    personal_id: str
    full_name: str
    date_of_birth: date
    gender: Gender
    deceased: bool = False
    permanent_residence: Residence | None = None
    temporary_residence: Residence | None = None


class Participant(_Frozen):
    """A BHYT participant as the BHXH database records them."""

    personal_id: str | None
    bhxh_number: str
    card_number: str
    full_name: str
    date_of_birth: date
    gender: Gender
    group: str = Field(description="object group code: GD household, DN employee, HS student, ...")
    province_code: str
    office_code: str
    valid_from: date | None
    valid_to: date | None


class MemberCheck(_Frozen):
    """Step 2b result for one declared member; `card_number` is the record's once found."""

    card_number: str
    eligible: bool
    bhxh_number: str | None = None
    reason: IneligibilityReason | None = None
    message: str | None = None
    mismatched_fields: list[str] = Field(
        default=[], description="on identity_mismatch: which of full_name, date_of_birth, gender differ"
    )


class QuoteLine(_Frozen):
    card_number: str
    bhxh_number: str
    member_name: str
    position: int = Field(ge=1, description="position in the household reduction order")
    base_salary: int
    rate_percent: str = Field(description="percent of the base salary, exact decimal, e.g. '3.15'")
    monthly_amount: int
    months: int
    amount: int
    valid_from: date = Field(description="validity the payment gives if paid on the quote date")
    valid_to: date
    office_code: str
    province_code: str


class Quote(_Frozen):
    quote_date: date
    base_salary: int
    lines: list[QuoteLine]
    total: int
    total_in_words: str
    paid_positions_before: int = Field(ge=0, description="household members already paid this fiscal year")


class PaymentInstructions(_Frozen):
    """What the declarant needs to pay (the payment notice of step 2c/3)."""

    txn_ref: str
    amount: int
    pay_url: str
    deadline: datetime
    merchant_code: str
    opened_at: datetime | None = None
    """When the order was opened (VNPay's vnp_CreateDate): querydr asks with it (issue 19)."""


class PaymentReceived(_Frozen):
    """The verified bank callback, as the `payment_received` signal carries it (DESIGN §3)."""

    txn_ref: str
    amount: int = Field(description="đồng (vnp_Amount / 100)")
    bank_code: str
    bank_tran_no: str
    transaction_no: str
    pay_date: datetime
    response_code: str
    transaction_status: str
    order_info: str = ""

    @property
    def is_paid(self) -> bool:
        return self.response_code == "00" and self.transaction_status == "00"


class ReceiptLine(_Frozen):
    card_number: str
    full_name: str
    months: int
    valid_from: date
    valid_to: date
    amount: int


class Receipt(_Frozen):
    """Biên lai thu tiền (step 5)."""

    series: str
    number: int
    year: int
    issued_on: date
    payer_name: str
    lines: list[ReceiptLine]
    total: int
    total_in_words: str
    txn_ref: str
    bank_tran_no: str
    verification_code: str

    @model_validator(mode="before")
    @classmethod
    def _drop_label(cls, data: object) -> object:
        """`label` is derived: accept it back from a serialised receipt without storing it."""
        if isinstance(data, dict) and "label" in data:
            return {k: v for k, v in data.items() if k != "label"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        """How the receipt is cited: series/year/number."""
        return f"{self.series}/{self.year}/{self.number:07d}"


class MemberOutcome(_Frozen):
    card_number: str
    result: Literal["renewed", "ineligible", "pending"]
    reason: IneligibilityReason | None = None
    message: str | None = Field(
        default=None, description="why ineligible; once renewed, the prescribed success message verbatim"
    )
    mismatched_fields: list[str] = []
    valid_from: date | None = Field(default=None, description="new validity, once renewed")
    valid_to: date | None = None
    usable_from: date | None = Field(
        default=None, description="once renewed: the day the card can first be used, when later than the notice"
    )

    @model_validator(mode="after")
    def _renewed_message(self) -> MemberOutcome:
        """A renewed member is told the procedure's words (DESIGN §1), whoever built the outcome."""
        if self.result == "renewed" and self.message is None:
            object.__setattr__(self, "message", RENEWAL_SUCCESS)
        return self


class Allocation(_Frozen):
    """What step 4 wrote: per card, the money and the new validity."""

    card_number: str
    bhxh_number: str
    office_code: str
    amount: int
    old_valid_to: date | None
    valid_from: date
    valid_to: date
