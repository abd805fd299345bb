"""Step 4's rules without a database: the payment-match rule, what a matched payment changes, the receipt."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.allocation import (
    AllocationRefused,
    BankOrder,
    BankTransaction,
    CardValidity,
    MismatchKind,
    issue_receipt,
    payment_mismatch,
    plan_allocation,
    verification_code,
)
from domain.models import PaymentReceived, QuoteLine

PAYMENT = PaymentReceived(
    txn_ref="T-1",
    amount=1_000,
    bank_code="NCB",
    bank_tran_no="B-1",
    transaction_no="N-1",
    pay_date=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
    response_code="00",
    transaction_status="00",
)
BANK_OK = BankTransaction(
    transaction_no="N-1", bank_tran_no="B-1", amount=1_000, response_code="00", transaction_status="00"
)


def kind(payment: PaymentReceived = PAYMENT, **kwargs: object) -> MismatchKind | None:
    expected: dict = {"txn_ref": "T-1", "amount": 1_000} | kwargs
    mismatch = payment_mismatch(payment, **expected)
    return None if mismatch is None else mismatch.kind


def test_a_matching_payment_matches_with_and_without_the_bank_record() -> None:
    assert kind() is None
    assert kind(bank=BankOrder(found=True, transactions=(BANK_OK,))) is None


def test_reference_amount_and_status_are_checked_in_that_order() -> None:
    failed = PAYMENT.model_copy(update={"response_code": "24", "amount": 999, "txn_ref": "T-2"})
    assert kind(failed) is MismatchKind.REFERENCE
    assert kind(failed.model_copy(update={"txn_ref": "T-1"})) is MismatchKind.AMOUNT
    assert kind(failed.model_copy(update={"txn_ref": "T-1", "amount": 1_000})) is MismatchKind.STATUS


def test_reasons_carry_codes_and_amounts_only() -> None:
    mismatch = payment_mismatch(PAYMENT, txn_ref="T-1", amount=2_000)
    assert mismatch is not None and mismatch.reason == "amount_mismatch: expected 2000, paid 1000"
    assert str(payment_mismatch(PAYMENT, txn_ref="T-9", amount=1_000)) == "txn_ref_mismatch"


def test_an_order_without_reference_yet_checks_amount_only_and_without_amount_matches_nothing() -> None:
    assert kind(txn_ref=None) is None
    assert kind(amount=None) is MismatchKind.AMOUNT


@pytest.mark.parametrize(
    ("bank", "expected"),
    [
        (BankOrder(found=False), MismatchKind.BANK_NO_ORDER),
        (BankOrder(found=True), MismatchKind.BANK_NO_TRANSACTION),
        (
            BankOrder(found=True, transactions=(BankTransaction("N-1", "B-1", 1_000, "24", "02"),)),
            MismatchKind.BANK_NOT_SUCCESSFUL,
        ),
        (
            BankOrder(found=True, transactions=(BankTransaction("N-1", "B-1", 999, "00", "00"),)),
            MismatchKind.BANK_AMOUNT,
        ),
        (
            BankOrder(found=True, transactions=(BankTransaction("N-1", "B-X", 1_000, "00", "00"),)),
            MismatchKind.BANK_TRANSACTION,
        ),
    ],
)
def test_the_bank_record_must_show_the_same_successful_transaction(
    bank: BankOrder, expected: MismatchKind
) -> None:
    assert kind(bank=bank) is expected


def test_bank_transactions_read_from_the_gateway_json() -> None:
    record = BankTransaction.from_json(
        {
            "transaction_no": "N-1",
            "bank_tran_no": "B-1",
            "amount": 1_000,
            "response_code": "00",
            "transaction_status": "00",
            "extra": "ignored",
        }
    )
    assert record == BANK_OK
    assert BankTransaction.from_json({"amount": "1000"}).amount is None


def line(number: str, position: int, months: int, amount: int, office: str = "BHXH-A") -> QuoteLine:
    return QuoteLine(
        card_number=f"GD401{number}",
        bhxh_number=number,
        member_name=f"Member {position}",
        position=position,
        base_salary=2_530_000,
        rate_percent="4.5",
        monthly_amount=amount // months,
        months=months,
        amount=amount,
        valid_from=date(2027, 1, 1),
        valid_to=date(2027, 12, 31),
        office_code=office,
        province_code="01",
    )


def card(number: str, valid_to: date | None, office: str = "BHXH-A") -> CardValidity:
    return CardValidity(bhxh_number=number, office_code=office, valid_from=None, valid_to=valid_to)


LINES = [line("0000000001", 1, 12, 1_200), line("0000000002", 2, 6, 600), line("0000000003", 3, 12, 900)]
CARDS = {
    "0000000001": card("0000000001", date(2026, 12, 31)),
    "0000000002": card("0000000002", date(2026, 11, 1), office="BHXH-B"),  # lapsed 23 days
    "0000000003": card("0000000003", None),  # never participated
}
PAID_ON = date(2026, 11, 24)


def test_validity_per_card_follows_the_renewal_rule() -> None:
    plan = plan_allocation(LINES, CARDS, household_code="HH-1", payment_date=PAID_ON)
    periods = [(r.old_valid_to, r.valid_from, r.valid_to) for r in plan.renewals]
    assert periods == [
        (date(2026, 12, 31), date(2027, 1, 1), date(2027, 12, 31)),
        (date(2026, 11, 1), date(2026, 11, 24), date(2027, 5, 23)),
        (None, date(2026, 12, 24), date(2027, 12, 23)),
    ]
    assert [a.valid_to for a in plan.allocations] == [r.valid_to for r in plan.renewals]


def test_household_contributions_keep_the_quoted_positions_and_fiscal_year() -> None:
    plan = plan_allocation(LINES, CARDS, household_code="HH-1", payment_date=PAID_ON)
    assert [(c.position, c.fiscal_year, c.household_code, c.paid_on) for c in plan.contributions] == [
        (1, 2026, "HH-1", PAID_ON),
        (2, 2026, "HH-1", PAID_ON),
        (3, 2026, "HH-1", PAID_ON),
    ]


def test_revenue_goes_to_the_managing_office_of_each_card_in_the_payment_month() -> None:
    plan = plan_allocation(LINES, CARDS, household_code="HH-1", payment_date=PAID_ON)
    assert [(r.office_code, r.period, r.amount, r.card_count) for r in plan.revenue] == [
        ("BHXH-A", "2026-11", 2_100, 2),
        ("BHXH-B", "2026-11", 600, 1),
    ]
    assert plan.total == sum(r.amount for r in plan.revenue) == 2_700


def test_a_card_quoted_twice_or_unknown_is_refused() -> None:
    with pytest.raises(AllocationRefused, match="twice"):
        plan_allocation([LINES[0], LINES[0]], CARDS, household_code="HH-1", payment_date=PAID_ON)
    with pytest.raises(AllocationRefused, match="unknown"):
        plan_allocation(
            LINES, {"0000000001": CARDS["0000000001"]}, household_code="HH-1", payment_date=PAID_ON
        )


def test_the_receipt_lists_the_lines_and_carries_a_deterministic_verification_code() -> None:
    plan = plan_allocation(LINES, CARDS, household_code="HH-1", payment_date=PAID_ON)
    payment = PAYMENT.model_copy(update={"amount": plan.total})
    receipt = issue_receipt(
        plan,
        application_id="app-1",
        series="BH26",
        number=7,
        issued_on=PAID_ON,
        payer_name="Payer",
        payment=payment,
    )
    assert receipt.year == 2026 and receipt.number == 7 and receipt.total == 2_700
    assert [(rl.full_name, rl.amount, rl.valid_to) for rl in receipt.lines] == [
        (ln.member_name, ln.amount, r.valid_to) for ln, r in zip(LINES, plan.renewals, strict=True)
    ]
    assert receipt.total_in_words.lower().startswith("hai nghìn bảy trăm")
    assert receipt.txn_ref == "T-1" and receipt.bank_tran_no == "B-1"
    assert receipt.verification_code == verification_code("app-1", "BH26", 2026, 7)
    assert verification_code("app-1", "BH26", 2026, 8) != receipt.verification_code
