"""The bank's statement in pages: a day of any size is read through the index, page by page, in
bank transaction number order, and the pages add up to the whole statement."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import httpx

from adapters.bank import BankGatewayClient
from simulators.bank import create_app
from simulators.bank.store import BankStore

TMN = "BHXHTEST"
DAY = date(2026, 3, 2)


def fill(path: Path) -> None:
    BankStore(path)  # creates the schema
    with sqlite3.connect(path) as db:
        for n in range(23):
            ref = f"R{n}"
            db.execute(
                "INSERT INTO orders VALUES (?, ?, 100000, 'x', 'http://127.0.0.1:1/ipn', 'paid', '2026-03-02', NULL)",
                (ref, TMN if n != 5 else "OTHER"),
            )
            day = DAY if n != 7 else date(2026, 3, 1)
            code = "00" if n != 9 else "24"
            # bank numbers repeat (two banks may use the same one): the transaction number breaks ties
            db.execute(
                "INSERT INTO transactions (transaction_no, txn_ref, amount, bank_code, bank_tran_no, card_type,"
                " pay_date, pay_day, response_code, transaction_status, ipn_state)"
                " VALUES (?, ?, 100000, 'NCB', ?, 'ATM', ?, ?, ?, ?, 'delivered')",
                (f"{14_000_000 + n}", ref, f"VNP{n % 11}", f"{day}T10:00:00+07:00", day.isoformat(), code, code),
            )


async def test_pages_add_up_to_the_statement_in_bank_transaction_order(tmp_path: Path) -> None:
    fill(tmp_path / "bank.db")
    app = create_app(tmp_path / "bank.db", secret="s", tmn_code=TMN)
    transport = httpx.ASGITransport(app=app)
    async with BankGatewayClient("http://bank", TMN, transport=transport) as bank:
        whole = await bank.statement(DAY)
        pages = [page async for page in bank.statement_pages(DAY, page_size=4)]

    assert len(whole) == 20  # not the other merchant's, not the other day's, not the failed one
    assert all(len(page) <= 4 for page in pages) and len(pages) == 5
    streamed = [t for page in pages for t in page]
    assert sorted(streamed, key=lambda t: t["transaction_no"]) == sorted(whole, key=lambda t: t["transaction_no"])
    keys = [(t["bank_tran_no"], t["transaction_no"]) for t in streamed]
    assert keys == sorted(keys)
