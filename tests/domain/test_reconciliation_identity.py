"""Issue 20: reconciliation on the transaction's identity (vnp_TransactionNo, else bank code +
bank number + order), with bank numbers repeated across banks; the streamed twin agrees."""

from __future__ import annotations

import asyncio
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.reconciliation import BankLine, Finding, RecordedPayment, reconcile
from domain.reconciliation_stream import reconcile_streams

BANKS = ["NCB", "VCB", "BIDV"]
NUMBERS = ["FT0001", "FT0002", "FT0003"]  # few numbers, several banks: repeats across banks
ORDERS = ["AAA", "BBB", "CCC", "DDD"]


@st.composite
def transactions(draw: st.DrawFn) -> dict:
    return {
        "bank_code": draw(st.sampled_from(BANKS)),
        "bank_tran_no": draw(st.sampled_from(NUMBERS)),
        "txn_ref": draw(st.sampled_from(ORDERS)),
        "transaction_no": draw(st.sampled_from(["", "14000001", "14000002", "14000003", "14000004"])),
        "amount": draw(st.sampled_from([100, 200])),
    }


@st.composite
def days(draw: st.DrawFn) -> tuple[list[BankLine], list[RecordedPayment]]:
    txs = draw(st.lists(transactions(), max_size=10))
    bank, ours = [], []
    for tx in txs:
        at_bank, recorded = draw(st.sampled_from([(True, True), (True, False), (False, True)]))
        if at_bank:
            bank.append(
                BankLine(
                    tx["bank_tran_no"], tx["txn_ref"], tx["amount"], tx["transaction_no"], tx["bank_code"]
                )
            )
        if recorded:
            ours.append(
                RecordedPayment(
                    bank_tran_no=tx["bank_tran_no"],
                    txn_ref=tx["txn_ref"],
                    amount=tx["amount"],
                    allocated=draw(st.booleans()),
                    application_status=draw(st.sampled_from(["completed", "cancelled", "awaiting_payment"])),
                    transaction_no=tx["transaction_no"],
                    bank_code=tx["bank_code"],
                )
            )
    return bank, ours


def identity(line: BankLine | RecordedPayment) -> tuple[str, ...]:
    return (
        (line.transaction_no,) if line.transaction_no else (line.bank_code, line.bank_tran_no, line.txn_ref)
    )


@settings(max_examples=300, derandomize=True)
@given(days())
def test_every_bank_line_once_nothing_merged_and_no_alarm_lost(
    day: tuple[list[BankLine], list[RecordedPayment]],
) -> None:
    bank, ours = day
    report = reconcile(bank, ours)
    reported_at_bank = [line for line in report.lines if line.bank_amount is not None]
    assert len(reported_at_bank) == len(bank)  # one finding per statement line
    # a line is paired with a record only when that record has its identity and no rival
    for line in report.lines:
        if line.finding in (Finding.MATCHED, Finding.AMOUNT_DIFFERS):
            twins = [b for b in bank if b.bank_tran_no == line.bank_tran_no and b.txn_ref == line.txn_ref]
            assert twins
    # every allocation of ours is either paired with exactly one line, part of an ambiguous
    # match, or reported not at the bank: none disappears into another's line
    paired = Counter()
    for mine in ours:
        matches = [b for b in bank if b.bank_tran_no == mine.bank_tran_no and _same(b, mine)]
        paired[id(mine)] = len(matches)
    not_at_bank = sum(1 for line in report.lines if line.finding == Finding.NOT_AT_BANK)
    assert not_at_bank == sum(1 for mine in ours if mine.allocated and paired[id(mine)] == 0)
    # the streamed twin finds the same
    tally = asyncio.run(_streamed(bank, ours))
    assert tally.counts == report.counts


def _same(line: BankLine, mine: RecordedPayment) -> bool:
    if line.transaction_no and mine.transaction_no:
        return line.transaction_no == mine.transaction_no
    return line.bank_code == mine.bank_code and line.txn_ref == mine.txn_ref


async def _streamed(bank: list[BankLine], ours: list[RecordedPayment]):
    async def pages(items: list, size: int = 2):
        for start in range(0, len(items), size):
            yield items[start : start + size]

    return await reconcile_streams(
        pages(sorted(bank, key=lambda b: b.bank_tran_no)), pages(sorted(ours, key=lambda p: p.bank_tran_no))
    )


def test_two_banks_one_number_both_matched_by_transaction_number() -> None:
    bank = [
        BankLine("FT0001", "AAA", 100, "14000001", "NCB"),
        BankLine("FT0001", "BBB", 100, "14000002", "VCB"),
    ]
    ours = [
        RecordedPayment(
            "FT0001",
            "BBB",
            100,
            allocated=True,
            application_status="completed",
            transaction_no="14000002",
            bank_code="VCB",
        ),
        RecordedPayment(
            "FT0001",
            "AAA",
            100,
            allocated=True,
            application_status="completed",
            transaction_no="14000001",
            bank_code="NCB",
        ),
    ]
    assert [line.finding for line in reconcile(bank, ours).lines] == [Finding.MATCHED, Finding.MATCHED]


def test_a_line_matching_two_records_is_reported_ambiguous_never_merged() -> None:
    bank = [BankLine("FT0001", "AAA", 100, "", "NCB")]
    ours = [
        RecordedPayment(
            "FT0001",
            "AAA",
            100,
            allocated=True,
            application_status="completed",
            transaction_no="14000001",
            bank_code="NCB",
        ),
        RecordedPayment(
            "FT0001",
            "AAA",
            100,
            allocated=False,
            application_status="cancelled",
            transaction_no="14000002",
            bank_code="NCB",
        ),
    ]
    report = reconcile(bank, ours)
    assert [line.finding for line in report.lines] == [Finding.AMBIGUOUS]
    assert report.attention == report.lines


def test_two_lines_matching_one_record_are_both_ambiguous() -> None:
    bank = [BankLine("FT0001", "AAA", 100, "", "NCB"), BankLine("FT0001", "AAA", 100, "", "NCB")]
    ours = [
        RecordedPayment("FT0001", "AAA", 100, allocated=True, application_status="completed", bank_code="NCB")
    ]
    assert [line.finding for line in reconcile(bank, ours).lines] == [Finding.AMBIGUOUS, Finding.AMBIGUOUS]
