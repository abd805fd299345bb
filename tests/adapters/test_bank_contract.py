"""Contract: `adapters.bank.BankGatewayClient` and the IPN, against the bank simulator as a real process.

The bank runs as `python -m simulators.bank` on a free port with its own SQLite file; the
merchant side of the callback is a recording app served by uvicorn on another free port, so
each IPN crosses a real socket in the direction a real bank calls us.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from adapters import ipn
from adapters.bank import (
    BankError,
    BankGatewayClient,
    BankOrderNotFound,
    BankRejected,
    BankUnavailable,
    PaymentOrder,
)
from simulators.bank import Knobs, create_app
from tests.support import RecordingMerchant, UvicornThread, free_port, start_bank

SECRET = "contract-test-secret"
TMN = "BHXHTEST"
MAX_ATTEMPTS = 4
_refs = itertools.count(1)


def new_ref() -> str:
    return f"T{int(time.time())}-{next(_refs)}"


@pytest.fixture(scope="module")
def merchant() -> Iterator[tuple[RecordingMerchant, UvicornThread]]:
    recorder = RecordingMerchant(secret=SECRET)
    with UvicornThread(recorder.app()) as server:
        yield recorder, server


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    tmp = tmp_path_factory.mktemp("bank")
    with start_bank(
        tmp / "bank.db", secret=SECRET, tmn_code=TMN, retry_base_ms=50, max_attempts=MAX_ATTEMPTS, log_dir=tmp
    ) as service:
        yield service


@pytest.fixture
async def admin(bank) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the simulator, for the knobs and calls the adapter does not offer."""
    async with httpx.AsyncClient(base_url=bank.base_url) as http:
        yield http
        # knobs are process state shared by the module: put back the defaults it started with
        reset = {"duplicate_callbacks": 0, "duplicate_concurrent": False, "callback_delay_ms": 0, "retry_base_ms": 50}
        (await http.put("/admin/knobs", json=reset)).raise_for_status()


async def set_knobs(admin: httpx.AsyncClient, **knobs) -> None:
    (await admin.put("/admin/knobs", json=knobs)).raise_for_status()


@pytest.fixture
async def client(bank) -> AsyncIterator[BankGatewayClient]:
    async with BankGatewayClient(bank.base_url, TMN, timeout=5.0) as client:
        yield client


@pytest.fixture
def ipn_url(merchant) -> str:
    return f"{merchant[1].base_url}/ipn"


@pytest.fixture
def recorder(merchant) -> RecordingMerchant:
    return merchant[0]


async def wait_for_ipn_state(
    client: BankGatewayClient, txn_ref: str, state: str, within: float = 10.0
) -> dict:
    deadline = time.monotonic() + within
    while True:
        order = await client.get_order(txn_ref)
        if order["transactions"] and order["transactions"][-1]["ipn_state"] == state:
            return order
        if time.monotonic() > deadline:
            raise TimeoutError(f"IPN for {txn_ref} not {state}: {order}")
        await asyncio.sleep(0.05)


async def test_create_order_returns_a_pay_url(client, ipn_url, bank, admin):
    ref = new_ref()
    order = await client.create_order(
        txn_ref=ref, amount=1_263_600, order_info="Gia han BHYT ho GD", ipn_url=ipn_url
    )
    assert order == PaymentOrder(
        txn_ref=ref, amount=1_263_600, pay_url=bank.url(f"/pay/{ref}"), status="pending"
    )
    page = await admin.get(order.pay_url)
    assert page.status_code == 200 and ref in page.text and "1.263.600" in page.text


async def test_the_pay_page_buttons_pay_and_call_back(client, admin, recorder, ipn_url):
    ref = new_ref()
    await client.create_order(txn_ref=ref, amount=45_540, order_info="x", ipn_url=ipn_url)
    page = await admin.post(f"/pay/{ref}", params={"succeed": "true"})
    assert page.status_code == 200 and "thành công" in page.text
    [call] = await recorder.wait_calls(ref, 1)
    assert call.signature_valid and ipn.is_paid(call.params)


async def test_create_order_is_idempotent_on_txn_ref(client, ipn_url):
    ref = new_ref()
    first = await client.create_order(txn_ref=ref, amount=500_000, order_info="x", ipn_url=ipn_url)
    again = await client.create_order(txn_ref=ref, amount=500_000, order_info="x", ipn_url=ipn_url)
    assert again == first
    with pytest.raises(BankRejected) as caught:
        await client.create_order(txn_ref=ref, amount=500_001, order_info="x", ipn_url=ipn_url)
    assert caught.value.status_code == 409 and not caught.value.retryable


async def test_an_unknown_merchant_code_is_refused(bank, ipn_url):
    async with BankGatewayClient(bank.base_url, "OTHERTMN") as other:
        with pytest.raises(BankRejected) as caught:
            await other.create_order(txn_ref=new_ref(), amount=1000, order_info="x", ipn_url=ipn_url)
    assert caught.value.status_code == 403


async def test_invalid_order_is_rejected_naming_fields_only(client, ipn_url):
    with pytest.raises(BankRejected, match="amount") as caught:
        await client.create_order(txn_ref=new_ref(), amount=0, order_info="Nguyễn Văn An", ipn_url=ipn_url)
    assert caught.value.status_code == 422
    assert "Nguyễn" not in str(caught.value)


async def test_paying_delivers_a_validly_signed_ipn(client, recorder, ipn_url):
    ref = new_ref()
    await client.create_order(
        txn_ref=ref, amount=1_263_600, order_info="Gia han BHYT / 3 the", ipn_url=ipn_url
    )
    transaction = await client.pay(ref)
    assert transaction["response_code"] == "00"
    [call] = await recorder.wait_calls(ref, 1)
    assert call.signature_valid and call.answered == "00"
    params = call.params
    assert ipn.verify(params, SECRET)
    assert params["vnp_TmnCode"] == TMN
    assert params["vnp_Amount"] == "126360000"
    assert params["vnp_OrderInfo"] == "Gia han BHYT / 3 the"
    assert params["vnp_TransactionNo"] == transaction["transaction_no"]
    payment = ipn.payment_from_params(params)
    assert payment.is_paid and payment.amount == 1_263_600 and payment.txn_ref == ref
    assert payment.pay_date.utcoffset() == timedelta(hours=7)
    assert abs(payment.pay_date - datetime.now(UTC)) < timedelta(minutes=1)

    order = await wait_for_ipn_state(client, ref, "delivered")
    assert order["status"] == "paid"
    [attempt] = order["ipn_attempts"]
    assert (attempt["attempt"], attempt["kind"], attempt["http_status"], attempt["rsp_code"]) == (
        1,
        "delivery",
        200,
        "00",
    )


async def test_a_tampered_parameter_fails_verification(client, recorder, ipn_url):
    ref = new_ref()
    await client.create_order(txn_ref=ref, amount=200_000, order_info="x", ipn_url=ipn_url)
    await client.pay(ref)
    [call] = await recorder.wait_calls(ref, 1)
    for key, value in [("vnp_Amount", "2000000000"), ("vnp_TxnRef", "OTHER"), ("vnp_ResponseCode", "24")]:
        assert not ipn.verify({**call.params, key: value}, SECRET)
    assert not ipn.verify(call.params, "not-the-secret")


async def test_a_merchant_answering_99_gets_the_ipn_again(client, admin, recorder, ipn_url):
    # a base long enough that each gap is dominated by the scheduled wait, not by a loaded machine;
    # a wait is never shorter than scheduled, so lower bounds hold however busy the machine is
    base = 0.4
    await set_knobs(admin, retry_base_ms=int(base * 1000))
    ref = new_ref()
    recorder.plan(ref, ["99", "99", "00"])
    await client.create_order(txn_ref=ref, amount=300_000, order_info="x", ipn_url=ipn_url)
    await client.pay(ref)
    calls = await recorder.wait_calls(ref, 3)
    assert [c.answered for c in calls] == ["99", "99", "00"]
    assert all(c.params == calls[0].params for c in calls), "a retry resends the same signed callback"
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(calls)]
    assert gaps[0] >= base and gaps[1] >= 2 * base, f"backoff should double from {base} s: {gaps}"
    order = await wait_for_ipn_state(client, ref, "delivered")
    assert [(a["attempt"], a["rsp_code"]) for a in order["ipn_attempts"]] == [(1, "99"), (2, "99"), (3, "00")]


async def test_already_confirmed_02_stops_the_retries(client, recorder, ipn_url):
    ref = new_ref()
    recorder.plan(ref, ["02"])
    await client.create_order(txn_ref=ref, amount=300_000, order_info="x", ipn_url=ipn_url)
    await client.pay(ref)
    order = await wait_for_ipn_state(client, ref, "delivered")
    assert [a["rsp_code"] for a in order["ipn_attempts"]] == ["02"]


async def test_an_unreachable_merchant_is_retried_until_max_attempts(client):
    ref = new_ref()
    dead = f"http://127.0.0.1:{free_port()}/ipn"
    await client.create_order(txn_ref=ref, amount=100_000, order_info="x", ipn_url=dead)
    await client.pay(ref)
    order = await wait_for_ipn_state(client, ref, "gave_up")
    attempts = order["ipn_attempts"]
    assert len(attempts) == MAX_ATTEMPTS
    assert all(a["http_status"] is None and a["error"] for a in attempts)


async def test_a_merchant_answering_04_keeps_getting_it_and_the_bank_gives_up(client, recorder, ipn_url):
    ref = new_ref()
    recorder.plan(ref, ["04"])
    await client.create_order(txn_ref=ref, amount=100_000, order_info="x", ipn_url=ipn_url)
    await client.pay(ref, amount=90_000)
    order = await wait_for_ipn_state(client, ref, "gave_up")
    assert [a["rsp_code"] for a in order["ipn_attempts"]] == ["04"] * MAX_ATTEMPTS
    assert recorder.calls_for(ref)[0].params["vnp_Amount"] == "9000000"


async def test_a_failed_payment_calls_back_unpaid_and_can_be_retried(client, recorder, ipn_url):
    ref = new_ref()
    await client.create_order(txn_ref=ref, amount=150_000, order_info="x", ipn_url=ipn_url)
    failed = await client.pay(ref, succeed=False)
    assert (failed["response_code"], failed["transaction_status"]) == ("24", "02")
    [call] = await recorder.wait_calls(ref, 1)
    assert call.signature_valid and not ipn.payment_from_params(call.params).is_paid
    assert (await client.get_order(ref))["status"] == "failed"

    await client.pay(ref)
    calls = await recorder.wait_calls(ref, 2)
    assert ipn.payment_from_params(calls[1].params).is_paid
    assert calls[1].params["vnp_TransactionNo"] != calls[0].params["vnp_TransactionNo"]
    with pytest.raises(BankRejected) as caught:
        await client.pay(ref)
    assert caught.value.status_code == 409


async def test_duplicate_callbacks_knob(client, admin, recorder, ipn_url):
    await set_knobs(admin, duplicate_callbacks=2)
    ref = new_ref()
    await client.create_order(txn_ref=ref, amount=120_000, order_info="x", ipn_url=ipn_url)
    await client.pay(ref)
    calls = await recorder.wait_calls(ref, 3)
    assert all(c.params == calls[0].params and c.signature_valid for c in calls)
    order = await client.get_order(ref)
    deadline = time.monotonic() + 5
    while len(order["ipn_attempts"]) < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        order = await client.get_order(ref)
    assert [a["kind"] for a in order["ipn_attempts"]] == ["delivery", "duplicate", "duplicate"]


async def test_concurrent_duplicates_arrive_together(client, admin, recorder, ipn_url):
    await set_knobs(admin, duplicate_callbacks=3, duplicate_concurrent=True)
    ref = new_ref()
    await client.create_order(txn_ref=ref, amount=120_000, order_info="x", ipn_url=ipn_url)
    await client.pay(ref)
    calls = await recorder.wait_calls(ref, 4)
    spread = (max(c.at for c in calls) - min(c.at for c in calls)).total_seconds()
    assert spread < 1.0


async def test_delayed_callback_knob(client, admin, recorder, ipn_url):
    await set_knobs(admin, callback_delay_ms=600)
    ref = new_ref()
    await client.create_order(txn_ref=ref, amount=120_000, order_info="x", ipn_url=ipn_url)
    paid_at = datetime.now(UTC)
    await client.pay(ref)  # answers at once, before the callback
    assert recorder.calls_for(ref) == []
    [call] = await recorder.wait_calls(ref, 1)
    assert (call.at - paid_at).total_seconds() >= 0.5


async def test_statement_lists_the_days_settled_transactions_only(client, admin, ipn_url):
    paid, failed, other_day = new_ref(), new_ref(), new_ref()
    for ref in (paid, failed, other_day):
        await client.create_order(txn_ref=ref, amount=80_000, order_info="x", ipn_url=ipn_url)
    await client.pay(paid)
    await client.pay(failed, succeed=False)
    paid_earlier = await admin.post(
        f"/api/v1/orders/{other_day}/pay", json={"pay_date": "2026-01-02T10:00:00+07:00"}
    )
    assert paid_earlier.status_code == 202

    today = datetime.now(ipn.GMT7).date()
    refs = {t["txn_ref"] for t in await client.statement(today)}
    assert paid in refs and failed not in refs and other_day not in refs
    [line] = [t for t in await client.statement(date(2026, 1, 2)) if t["txn_ref"] == other_day]
    assert line["amount"] == 80_000 and line["pay_date"] == "2026-01-02T10:00:00+07:00"
    assert {"transaction_no", "bank_tran_no", "bank_code", "order_info"} <= set(line)


async def test_unknown_order_is_not_found(client):
    with pytest.raises(BankOrderNotFound):
        await client.get_order("NO-SUCH-REF")
    with pytest.raises(BankRejected):
        await client.pay("NO-SUCH-REF")


async def test_an_expired_order_cannot_be_paid(client, ipn_url):
    ref = new_ref()
    past = datetime.now(UTC) - timedelta(minutes=1)
    order = await client.create_order(
        txn_ref=ref, amount=1000, order_info="x", ipn_url=ipn_url, expires_at=past
    )
    assert order.status == "expired"
    with pytest.raises(BankRejected, match="expired"):
        await client.pay(ref)


async def test_bank_down_is_retryable():
    async with BankGatewayClient(f"http://127.0.0.1:{free_port()}", TMN, timeout=1.0) as client:
        with pytest.raises(BankUnavailable) as caught:
            await client.statement(date(2026, 1, 1))
    assert caught.value.retryable


async def test_undelivered_callbacks_resume_after_a_restart(tmp_path, recorder, ipn_url):
    """A real gateway keeps its retry queue across restarts; so does the simulator."""
    db = tmp_path / "bank.db"
    ref = new_ref()
    recorder.plan(ref, ["99", "00"])
    with start_bank(db, secret=SECRET, tmn_code=TMN, retry_base_ms=60_000, log_dir=tmp_path) as first:
        async with BankGatewayClient(first.base_url, TMN) as client:
            await client.create_order(txn_ref=ref, amount=1000, order_info="x", ipn_url=ipn_url)
            await client.pay(ref)
            await recorder.wait_calls(ref, 1)  # answered 99; the next try is a minute away
    with start_bank(db, secret=SECRET, tmn_code=TMN, retry_base_ms=50, log_dir=tmp_path) as second:
        async with BankGatewayClient(second.base_url, TMN) as client:
            order = await wait_for_ipn_state(client, ref, "delivered")
    assert [a["rsp_code"] for a in order["ipn_attempts"]] == ["99", "00"]


# -- in-process: the simulator's pay call answers before the callback (ASGI transport) ------------


async def test_pay_returns_before_the_callback_in_process(tmp_path):
    app = create_app(tmp_path / "b.db", secret=SECRET, tmn_code=TMN, knobs=Knobs(callback_delay_ms=60_000))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with BankGatewayClient("http://bank", TMN, transport=transport) as client:
            await client.create_order(
                txn_ref="R1", amount=1000, order_info="x", ipn_url="http://merchant/ipn"
            )
            started = time.monotonic()
            await client.pay("R1")
            assert time.monotonic() - started < 5
            assert len(app.state.delivery.tasks) == 1


# ---- issue 10: void, querydr and refund (VNPay's merchant API convention) ----------------------


@pytest.fixture
async def signer(bank) -> AsyncIterator[BankGatewayClient]:
    """The adapter with the merchant secret, as the worker builds it (querydr and refund are signed)."""
    async with BankGatewayClient(bank.base_url, TMN, secret=SECRET, timeout=5.0) as client:
        yield client


async def test_a_voided_order_refuses_payment_and_querydr_says_not_paid(signer, ipn_url):
    ref = new_ref()
    await signer.create_order(txn_ref=ref, amount=120_000, order_info="x", ipn_url=ipn_url)
    assert await signer.void_order(ref) == "voided"
    assert await signer.void_order(ref) == "voided"  # idempotent
    with pytest.raises(BankRejected) as caught:
        await signer.pay(ref)
    assert caught.value.status_code == 409
    answer = await signer.query_order(ref, created_at=datetime.now(UTC))
    assert (answer.response_code, answer.transaction_status, answer.paid) == ("00", "01", False)
    with pytest.raises(BankOrderNotFound):
        await signer.void_order(new_ref())
    with pytest.raises(BankOrderNotFound):
        await signer.query_order(new_ref(), created_at=datetime.now(UTC))


async def test_querydr_finds_a_payment_whose_callback_is_late_and_void_is_too_late(signer, recorder, ipn_url):
    ref = new_ref()
    recorder.plan(ref, ["99"] * MAX_ATTEMPTS)  # the merchant never acknowledges
    await signer.create_order(txn_ref=ref, amount=130_000, order_info="x", ipn_url=ipn_url)
    paid = await signer.pay(ref)
    assert await signer.void_order(ref) == "paid"
    answer = await signer.query_order(ref, created_at=datetime.now(UTC))
    assert answer.paid and answer.amount == 130_000
    assert (answer.transaction_no, answer.bank_tran_no) == (paid["transaction_no"], paid["bank_tran_no"])


async def test_refund_is_signed_full_once_per_transaction_and_on_the_statement(signer, ipn_url, admin):
    ref = new_ref()
    opened = datetime.now(UTC)
    await signer.create_order(txn_ref=ref, amount=140_000, order_info="x", ipn_url=ipn_url)
    paid = await signer.pay(ref)
    pay_date = datetime.fromisoformat(paid["pay_date"])
    args = dict(txn_ref=ref, transaction_no=paid["transaction_no"], transaction_date=opened, reason="test")

    partial = await signer.refund(request_id="RFPART" + paid["transaction_no"], amount=100_000, **args)
    assert partial.response_code == "93"  # full refunds only
    first = await signer.refund(request_id="RF" + paid["transaction_no"], amount=140_000, **args)
    assert (first.response_code, first.transaction_status) == ("00", "00") and first.refund_transaction_no
    again = await signer.refund(request_id="RF" + paid["transaction_no"], amount=140_000, **args)
    assert again.response_code == "94"  # VNPay: a request id is used once a day
    other = await signer.refund(request_id="RFX" + paid["transaction_no"], amount=140_000, **args)
    assert other.response_code == "94"  # a refund of this transaction is on record
    missing = await signer.refund(request_id="RFMISSING", amount=140_000, **{**args, "transaction_no": "1"})
    assert missing.response_code == "91"

    statement = (await admin.get("/api/v1/statement", params={"date": pay_date.date().isoformat()})).json()
    refunds = [r for r in statement["refunds"] if r["txn_ref"] == ref]
    assert [(r["transaction_no"], r["amount"]) for r in refunds] == [(paid["transaction_no"], 140_000)]
    [line] = [t for t in statement["transactions"] if t["txn_ref"] == ref]
    assert line["refunded"] is True
    answer = await signer.query_order(ref, created_at=opened, transaction_no=paid["transaction_no"])
    assert (answer.transaction_type, answer.transaction_status, answer.paid) == ("02", "00", False)


async def test_a_refund_is_in_process_then_final_as_the_knobs_say(signer, ipn_url, admin):
    """refund_settle_ms: 05 for the first half, 06 for the second, then refund_outcome decides."""
    await set_knobs(admin, refund_settle_ms=1500, refund_outcome="rejected")
    try:
        ref = new_ref()
        opened = datetime.now(UTC)
        await signer.create_order(txn_ref=ref, amount=145_000, order_info="x", ipn_url=ipn_url)
        paid = await signer.pay(ref)
        args = dict(txn_ref=ref, transaction_no=paid["transaction_no"], transaction_date=opened, reason="t")
        taken = await signer.refund(request_id="RFK" + paid["transaction_no"], amount=145_000, **args)
        assert (taken.response_code, taken.transaction_status) == ("00", "05")
        seen = set()
        while True:
            answer = await signer.query_order(ref, created_at=opened, transaction_no=paid["transaction_no"])
            seen.add(answer.transaction_status)
            if answer.transaction_status not in ("05", "06"):
                break
            await asyncio.sleep(0.1)
        assert answer.transaction_type == "02" and answer.transaction_status == "09"
        assert {"05", "06"} <= seen
        await set_knobs(admin, refund_settle_ms=0, refund_outcome="success")
        retried = await signer.refund(request_id="RFK2" + paid["transaction_no"], amount=145_000, **args)
        assert (retried.response_code, retried.transaction_status) == ("00", "00")  # after a rejection: allowed
    finally:
        await set_knobs(admin, refund_settle_ms=0, refund_outcome="success")


async def test_the_merchant_api_answers_with_vnpays_codes(bank, signer, ipn_url):
    """02 another merchant code, 03 a field missing or malformed, 91 no such transaction (or
    another vnp_TransactionDate), 94 a repeated request id, 95 a refund of a failed payment."""
    from adapters import vnpay_api

    ref = new_ref()
    opened = datetime.now(UTC)
    await signer.create_order(txn_ref=ref, amount=170_000, order_info="x", ipn_url=ipn_url)
    failed = await signer.pay(ref, succeed=False)

    async def raw(values: dict[str, str]) -> dict[str, str]:
        command = values["vnp_Command"]
        body = vnpay_api.signed(values, vnpay_api.request_fields(command), SECRET)
        async with httpx.AsyncClient(base_url=bank.base_url) as http:
            answer = (await http.post(vnpay_api.PATH, json=body)).json()
        assert vnpay_api.verify(answer, vnpay_api.response_fields(command), SECRET)
        return answer

    base = {
        "vnp_Version": "2.1.0", "vnp_Command": "querydr", "vnp_TmnCode": TMN, "vnp_TxnRef": ref,
        "vnp_TransactionDate": ipn.format_pay_date(opened), "vnp_CreateDate": ipn.format_pay_date(opened),
        "vnp_IpAddr": "127.0.0.1", "vnp_OrderInfo": "q",
    }  # fmt: skip
    rid = f"Q{int(time.time() * 1000)}"
    assert (await raw({**base, "vnp_RequestId": rid + "a", "vnp_TmnCode": "OTHERTMN"}))["vnp_ResponseCode"] == "02"
    assert (await raw({**base, "vnp_RequestId": rid + "b", "vnp_CreateDate": "2026"}))["vnp_ResponseCode"] == "03"
    assert (await raw({**base, "vnp_RequestId": rid + "-"}))["vnp_ResponseCode"] == "03"
    long_ago = ipn.format_pay_date(opened - timedelta(days=3))
    assert (await raw({**base, "vnp_RequestId": rid + "c", "vnp_TransactionDate": long_ago}))["vnp_ResponseCode"] == "91"
    ok = await raw({**base, "vnp_RequestId": rid + "d"})
    assert (ok["vnp_ResponseCode"], ok["vnp_TransactionType"], ok["vnp_TransactionStatus"]) == ("00", "01", "02")
    assert (await raw({**base, "vnp_RequestId": rid + "d"}))["vnp_ResponseCode"] == "94"
    refund = {
        **base, "vnp_Command": "refund", "vnp_RequestId": rid + "e", "vnp_TransactionType": "02",
        "vnp_Amount": "17000000", "vnp_TransactionNo": failed["transaction_no"], "vnp_CreateBy": "t",
    }  # fmt: skip
    assert (await raw(refund))["vnp_ResponseCode"] == "95"


async def test_a_request_with_a_bad_checksum_is_refused(bank, signer, ipn_url):
    ref = new_ref()
    await signer.create_order(txn_ref=ref, amount=150_000, order_info="x", ipn_url=ipn_url)
    async with BankGatewayClient(bank.base_url, TMN, secret="not-the-secret", timeout=5.0) as forger:
        with pytest.raises(BankError):  # answered 97, and its answer's checksum does not verify either
            await forger.query_order(ref, created_at=datetime.now(UTC))


async def test_a_wrong_amount_transfer_does_not_settle_the_order(signer, ipn_url):
    ref = new_ref()
    await signer.create_order(txn_ref=ref, amount=160_000, order_info="x", ipn_url=ipn_url)
    await signer.pay(ref, amount=10_000)
    assert (await signer.get_order(ref))["status"] == "failed"
    await signer.pay(ref)  # the corrected transfer
    assert (await signer.get_order(ref))["status"] == "paid"
    answer = await signer.query_order(ref, created_at=datetime.now(UTC))
    assert answer.paid and answer.amount == 160_000
