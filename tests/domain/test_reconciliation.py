"""The day's reconciliation: each bank transaction ends in exactly one finding."""

from __future__ import annotations

from domain.reconciliation import BankLine, Finding, RecordedPayment, reconcile


def paid(no: str, amount: int, *, allocated: bool, status: str | None) -> RecordedPayment:
    return RecordedPayment(
        bank_tran_no=no, txn_ref=f"REF{no}", amount=amount, allocated=allocated, application_status=status
    )


def test_each_case_gets_its_finding() -> None:
    bank = [
        BankLine("1", "REF1", 100),  # allocated, same amount
        BankLine("2", "REF2", 200),  # no callback reached us
        BankLine("3", "REF3", 300),  # closed before the money came
        BankLine("4", "REF4", 400),  # in review
        BankLine("5", "REF5", 500),  # still allocating
        BankLine("6", "REF6", 600),  # allocated, bank settled another amount
    ]
    ours = [
        paid("1", 100, allocated=True, status="completed"),
        paid("3", 300, allocated=False, status="expired"),
        paid("4", 999, allocated=False, status="payment_review"),
        paid("5", 500, allocated=False, status="allocating"),
        paid("6", 650, allocated=True, status="completed"),
        paid("7", 700, allocated=True, status="completed"),  # we allocated, the bank lists nothing
        paid(
            "8", 800, allocated=False, status="payment_review"
        ),  # forged or not settled: not allocated, not listed
    ]
    report = reconcile(bank, ours)
    findings = {line.bank_tran_no: line.finding for line in report.lines}
    assert findings == {
        "1": Finding.MATCHED,
        "2": Finding.NOT_RECEIVED,
        "3": Finding.REFUND_DUE,
        "4": Finding.REVIEW,
        "5": Finding.IN_PROGRESS,
        "6": Finding.AMOUNT_DIFFERS,
        "7": Finding.NOT_AT_BANK,
    }
    assert {line.bank_tran_no for line in report.attention} == {"2", "3", "4", "6", "7"}
    assert report.bank_total == 2100
    assert report.allocated_total == 100 + 650 + 700


def test_a_clean_day_needs_no_attention() -> None:
    report = reconcile([BankLine("1", "REF1", 5)], [paid("1", 5, allocated=True, status="completed")])
    assert report.attention == []
    assert report.counts[Finding.MATCHED] == 1


def test_unallocated_money_on_a_completed_application_is_refund_due() -> None:
    """Issue 10 finding 1: a wrong-amount transfer, then the right one (completed), and a second
    payment of a paid order: the money not allocated is owed back, whatever the status."""
    bank = [
        BankLine("W", "REFA", 1_000),  # wrong amount, then...
        BankLine("R", "REFA", 5_000),  # ...the corrected transfer, allocated
        BankLine("D", "REFB", 7_000),  # a double payment of order B
        BankLine("B", "REFB", 7_000),  # order B's allocated payment
        BankLine("X", "REFC", 9_000),  # refunded already
    ]
    ours = [
        RecordedPayment("W", "REFA", 1_000, allocated=False, application_status="completed"),
        RecordedPayment("R", "REFA", 5_000, allocated=True, application_status="completed"),
        RecordedPayment("D", "REFB", 7_000, allocated=False, application_status="completed"),
        RecordedPayment("B", "REFB", 7_000, allocated=True, application_status="completed"),
        RecordedPayment("X", "REFC", 9_000, allocated=False, application_status="cancelled", refunded=True),
    ]
    findings = {line.bank_tran_no: line.finding for line in reconcile(bank, ours).lines}
    assert findings == {
        "W": Finding.REFUND_DUE,
        "R": Finding.MATCHED,
        "D": Finding.REFUND_DUE,
        "B": Finding.MATCHED,
        "X": Finding.REFUNDED,
    }
    assert {line.bank_tran_no for line in reconcile(bank, ours).attention} == {"W", "D"}


def test_a_bank_number_shared_by_two_records_keeps_the_alarm_of_the_one_not_at_bank() -> None:
    """Issue 20, finding 3: vnp_BankTranNo is not unique. The statement holds X (FT0001, order AAA);
    we hold X and Z (FT0001, order BBB, allocated, not at the bank): X matches, Z is an alarm."""
    bank = [BankLine("FT0001", "AAA", 100)]
    ours = [
        RecordedPayment(bank_tran_no="FT0001", txn_ref="AAA", amount=100, allocated=True, application_status="completed"),
        RecordedPayment(bank_tran_no="FT0001", txn_ref="BBB", amount=100, allocated=True, application_status="completed"),
    ]
    report = reconcile(bank, ours)
    assert sorted((line.finding, line.txn_ref) for line in report.lines) == [
        (Finding.MATCHED, "AAA"),
        (Finding.NOT_AT_BANK, "BBB"),
    ]
