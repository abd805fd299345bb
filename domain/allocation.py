"""Step 4 — phân bổ: does a payment match its application, and what a matched payment changes.

Pure rules, no I/O and no clock: the IPN route, the workflow, the `reconcile_payment` activity
and the database's allocation transaction all ask `payment_mismatch`, so "does this payment
match?" is decided once. `plan_allocation` says what a matched payment writes (new validity per
card, the household contribution at its position, revenue per office and accounting month, the
receipt lines) and `issue_receipt` builds the receipt once the database has drawn its number;
the repository only loads, locks and saves what they return.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.eligibility import HOUSEHOLD_GROUP
from domain.fiscal_year import fiscal_year_of
from domain.models import Allocation, PaymentReceived, QuoteLine, Receipt, ReceiptLine
from domain.validity import renewal_period
from domain.words import amount_in_words

SUCCESS = "00"
"""Bank response code and transaction status of a successful payment."""


class MismatchKind(StrEnum):
    """Why a payment cannot be allocated; checked in this order."""

    REFERENCE = "reference"
    AMOUNT = "amount"
    STATUS = "status"
    BANK_NO_ORDER = "bank_no_order"
    BANK_NO_TRANSACTION = "bank_no_transaction"
    BANK_NOT_SUCCESSFUL = "bank_not_successful"
    BANK_AMOUNT = "bank_amount"
    BANK_TRANSACTION = "bank_transaction"


@dataclass(frozen=True)
class Mismatch:
    """A payment that does not match. `reason` is operator-facing: codes and amounts, no personal data."""

    kind: MismatchKind
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class BankTransaction:
    """One transaction as the bank's own record (its order query) shows it."""

    transaction_no: str | None
    bank_tran_no: str | None
    amount: int | None
    response_code: str | None
    transaction_status: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> BankTransaction:
        amount = data.get("amount")
        return cls(
            transaction_no=_opt_str(data.get("transaction_no")),
            bank_tran_no=_opt_str(data.get("bank_tran_no")),
            amount=amount if isinstance(amount, int) else None,
            response_code=_opt_str(data.get("response_code")),
            transaction_status=_opt_str(data.get("transaction_status")),
        )


@dataclass(frozen=True)
class BankOrder:
    """The bank's record of one order; `found=False` when the bank does not know the order."""

    found: bool
    transactions: tuple[BankTransaction, ...] = ()


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def payment_mismatch(
    payment: PaymentReceived,
    *,
    txn_ref: str | None,
    amount: int | None,
    bank: BankOrder | None = None,
) -> Mismatch | None:
    """The one payment-match rule: None when `payment` may be allocated to the order (`txn_ref`,
    `amount`), else the first reason it may not.

    Checked in order: the order reference (skipped when the order has none yet), the amount
    (an order without an amount matches none),
    the payment's status, and — when `bank` is given — the bank's own record of the transaction
    (it must exist, be successful, and agree on amount and bank transaction number).
    """
    if txn_ref is not None and payment.txn_ref != txn_ref:
        return Mismatch(MismatchKind.REFERENCE, "txn_ref_mismatch")
    if amount is None or payment.amount != amount:
        return Mismatch(MismatchKind.AMOUNT, f"amount_mismatch: expected {amount}, paid {payment.amount}")
    if not payment.is_paid:
        return Mismatch(MismatchKind.STATUS, "payment_not_successful")
    if bank is None:
        return None
    if not bank.found:
        return Mismatch(MismatchKind.BANK_NO_ORDER, "bank_has_no_such_order")
    record = next((t for t in bank.transactions if t.transaction_no == payment.transaction_no), None)
    if record is None:
        return Mismatch(MismatchKind.BANK_NO_TRANSACTION, "bank_has_no_such_transaction")
    if (record.response_code, record.transaction_status) != (SUCCESS, SUCCESS):
        return Mismatch(MismatchKind.BANK_NOT_SUCCESSFUL, "bank_transaction_not_successful")
    if record.amount != payment.amount:
        return Mismatch(
            MismatchKind.BANK_AMOUNT, f"bank_amount_mismatch: bank {record.amount}, callback {payment.amount}"
        )
    if record.bank_tran_no != payment.bank_tran_no:
        return Mismatch(MismatchKind.BANK_TRANSACTION, "bank_transaction_mismatch")
    return None


# -- what a matched payment changes ---------------------------------------------------------


@dataclass(frozen=True)
class CardValidity:
    """A card's validity before the payment, and the office that manages it (and books its revenue)."""

    bhxh_number: str
    office_code: str
    valid_from: date | None
    valid_to: date | None
    card_number: str | None = None
    group: str | None = None


def issued_card(card: CardValidity, quoted_card: str) -> str | None:
    """The household card a renewal issues in place of a lapsed other-group card (DESIGN §2: a
    DN/HS member whose card has lapsed joins the household form on a GD card with the same
    BHXH number); None when the card stays the one it is."""
    if card.card_number is None or (card.group or "").upper() == HOUSEHOLD_GROUP:
        return None
    return quoted_card if quoted_card == HOUSEHOLD_GROUP + card.card_number[2:] else None


@dataclass(frozen=True)
class CardRenewal:
    """One quote line applied to its card: the validity it had and the validity it now has."""

    line_no: int
    bhxh_number: str
    card_number: str
    member_name: str
    office_code: str
    position: int
    months: int
    amount: int
    old_valid_from: date | None
    old_valid_to: date | None
    valid_from: date
    valid_to: date

    def allocation(self) -> Allocation:
        return Allocation(
            card_number=self.card_number,
            bhxh_number=self.bhxh_number,
            office_code=self.office_code,
            amount=self.amount,
            old_valid_to=self.old_valid_to,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
        )

    def receipt_line(self) -> ReceiptLine:
        return ReceiptLine(
            card_number=self.card_number,
            full_name=self.member_name,
            months=self.months,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            amount=self.amount,
        )


@dataclass(frozen=True)
class HouseholdContribution:
    """The household-form payment of one member, at its position in the reduction order: later
    quotes of the same household and fiscal year count it (DESIGN §4)."""

    bhxh_number: str
    household_code: str
    fiscal_year: int
    position: int
    months: int
    amount: int
    paid_on: date
    valid_from: date
    valid_to: date
    issued_card: str | None = None
    """A new card issued with this payment (see `issued_card`), kept in the card history."""


@dataclass(frozen=True)
class RevenueEntry:
    """Phát sinh thu: what one managing office collected in one accounting month (YYYY-MM)."""

    office_code: str
    period: str
    amount: int
    card_count: int


@dataclass(frozen=True)
class AllocationPlan:
    """Everything a matched payment writes, before the receipt number is drawn."""

    paid_on: date
    fiscal_year: int
    period: str
    total: int
    renewals: tuple[CardRenewal, ...]
    contributions: tuple[HouseholdContribution, ...]
    revenue: tuple[RevenueEntry, ...]

    @property
    def allocations(self) -> list[Allocation]:
        return [r.allocation() for r in self.renewals]

    @property
    def receipt_lines(self) -> list[ReceiptLine]:
        return [r.receipt_line() for r in self.renewals]


class AllocationRefused(ValueError):
    """The quote cannot be applied to the cards as they are (a card quoted twice or unknown)."""


def plan_allocation(
    lines: Sequence[QuoteLine],
    cards: Mapping[str, CardValidity],
    *,
    household_code: str,
    payment_date: date,
) -> AllocationPlan:
    """What paying `lines` on `payment_date` (Vietnam date) changes.

    Validity runs on from the card's current end, or from the payment date if it has lapsed
    (`renewal_period`); the fiscal year and the accounting month are those of the payment date;
    revenue goes to the office that manages each card.
    """
    numbers = [line.bhxh_number for line in lines]
    if len(set(numbers)) != len(numbers):
        raise AllocationRefused("a card is quoted twice")
    if any(n not in cards for n in numbers):
        raise AllocationRefused("a quoted card is unknown")
    fiscal_year = fiscal_year_of(payment_date)
    period = f"{payment_date:%Y-%m}"
    renewals: list[CardRenewal] = []
    contributions: list[HouseholdContribution] = []
    revenue: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for line_no, line in enumerate(lines, start=1):
        card = cards[line.bhxh_number]
        new_from, new_to = renewal_period(card.valid_to, payment_date, line.months)
        renewals.append(
            CardRenewal(
                line_no=line_no,
                bhxh_number=card.bhxh_number,
                card_number=line.card_number,
                member_name=line.member_name,
                office_code=card.office_code,
                position=line.position,
                months=line.months,
                amount=line.amount,
                old_valid_from=card.valid_from,
                old_valid_to=card.valid_to,
                valid_from=new_from,
                valid_to=new_to,
            )
        )
        contributions.append(
            HouseholdContribution(
                bhxh_number=card.bhxh_number,
                household_code=household_code,
                fiscal_year=fiscal_year,
                position=line.position,
                months=line.months,
                amount=line.amount,
                paid_on=payment_date,
                valid_from=new_from,
                valid_to=new_to,
                issued_card=issued_card(card, line.card_number),
            )
        )
        revenue[card.office_code][0] += line.amount
        revenue[card.office_code][1] += 1
    return AllocationPlan(
        paid_on=payment_date,
        fiscal_year=fiscal_year,
        period=period,
        total=sum(line.amount for line in lines),
        renewals=tuple(renewals),
        contributions=tuple(contributions),
        revenue=tuple(
            RevenueEntry(office_code=office, period=period, amount=amount, card_count=count)
            for office, (amount, count) in sorted(revenue.items())
        ),
    )


def verification_code(application_id: str, series: str, year: int, number: int) -> str:
    """Deterministic, so a receipt rebuilt from the database carries the code it was issued with."""
    digest = hashlib.sha256(f"{application_id}|{series}|{year}|{number}".encode()).hexdigest()
    return digest[:12].upper()


def issue_receipt(
    plan: AllocationPlan,
    *,
    application_id: str,
    series: str,
    number: int,
    issued_on: date,
    payer_name: str,
    payment: PaymentReceived,
) -> Receipt:
    """The biên lai for a plan, once its gap-free number in (`series`, fiscal year) is drawn."""
    return Receipt(
        series=series,
        number=number,
        year=plan.fiscal_year,
        issued_on=issued_on,
        payer_name=payer_name,
        lines=plan.receipt_lines,
        total=plan.total,
        total_in_words=amount_in_words(plan.total),
        txn_ref=payment.txn_ref,
        bank_tran_no=payment.bank_tran_no,
        verification_code=verification_code(application_id, series, plan.fiscal_year, number),
    )
