"""The day's statement (GET /api/v1/statement), which the merchant reconciles against."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from simulators.bank.state import BankDep

router = APIRouter(prefix="/api/v1", tags=["gateway"])


@router.get("/statement", response_class=Response)
def statement(
    bank: BankDep,
    day: Annotated[date, Query(alias="date")],
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    after_bank_tran_no: str | None = None,
    after_transaction_no: str | None = None,
) -> Response:
    """Settled (successful) transactions whose pay date, in GMT+7, is that day, and the refunds
    made that day.

    With `limit`: one page of the transactions in (bank_tran_no, transaction_no) order, `next`
    holding the cursor of the following page (null on the last one), so a day of any size
    streams; the day's refunds come with the whole statement (no `limit`)."""
    store, tmn_code, clock = bank.store, bank.tmn_code, bank.clock
    body: dict[str, Any] = {"date": day.isoformat(), "tmn_code": tmn_code}
    if limit is None:
        rows = store.settled(day, tmn_code)
        done = store.refunded_among([r["transaction_no"] for r in rows], clock())
        for row in rows:
            row["refunded"] = row["transaction_no"] in done
        refunds = store.refunds_on(day, clock())
        body.update(refunds=refunds, refunded_total=sum(r["amount"] for r in refunds))
    else:
        after = None
        if after_bank_tran_no is not None and after_transaction_no is not None:
            after = (after_bank_tran_no, after_transaction_no)
        rows = store.settled_page(day, tmn_code, after=after, limit=limit)
        refunded = store.refunded_among([r["transaction_no"] for r in rows], clock())
        for row in rows:
            row["refunded"] = row["transaction_no"] in refunded
        last = rows[-1] if len(rows) == limit else None
        body["next"] = (
            {"after_bank_tran_no": last["bank_tran_no"], "after_transaction_no": last["transaction_no"]}
            if last
            else None
        )
    body.update(count=len(rows), total=sum(r["amount"] for r in rows), transactions=rows)
    # plain JSON text: FastAPI's generic encoder costs more than the query on a page of thousands
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")
