"""The household's payment page (the order's pay_url): Pay or Cancel."""

from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from simulators.bank.routes.payments import PayIn, pay
from simulators.bank.state import BankDep, order_status

router = APIRouter(tags=["household"])


@router.get("/pay/{txn_ref}", response_class=HTMLResponse, name="pay_page")
def pay_page(txn_ref: str, bank: BankDep) -> str:
    order = bank.find(txn_ref)
    ref = html.escape(txn_ref)
    return _PAGE.format(
        ref=ref,
        amount=f"{order['amount']:,}".replace(",", "."),
        info=html.escape(order["order_info"]),
        status=html.escape(order_status(order)),
        action=f"/pay/{ref}",
    )


@router.post("/pay/{txn_ref}", response_class=HTMLResponse)
async def pay_from_page(txn_ref: str, bank: BankDep, succeed: bool = True) -> str:
    transaction = pay(bank, txn_ref, PayIn(succeed=succeed))
    outcome = "Thanh toán thành công" if succeed else "Thanh toán không thành công"
    return (
        f"<!doctype html><meta charset=utf-8><title>{outcome}</title><h1>{outcome}</h1>"
        f"<p>Mã giao dịch {html.escape(transaction['transaction_no'])}</p>"
    )


_PAGE = """<!doctype html>
<html lang="vi"><meta charset="utf-8"><title>Cổng thanh toán (mô phỏng) — {ref}</title>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto">
<h1>Cổng thanh toán (mô phỏng)</h1>
<p>Đơn hàng <b>{ref}</b>: {info}</p>
<p>Số tiền: <b>{amount} đ</b> — trạng thái: {status}</p>
<form method="post" action="{action}?succeed=true"><button>Thanh toán</button></form>
<form method="post" action="{action}?succeed=false"><button>Huỷ thanh toán</button></form>
</body></html>
"""
