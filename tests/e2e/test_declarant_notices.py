"""End to end (issue 22): the declarant hears back by email and SMS on the real stack — the local
SMTP server and the SMS gateway simulator as processes — and a channel down holds up nothing."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from domain.messages import RENEWAL_SUCCESS
from scripts.stack import Stack
from simulators.mailbox import read_mail
from tests.support.history import payloads, raw_history
from tests.support.stack_clients import NO_KEEPALIVE, api_client
from tests.support.temporal import CONVERTER
from workflows.contract import workflow_id

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / "data" / "demo.json").read_text(encoding="utf-8"))
DEMO_DECLARATION = json.loads((ROOT / "data" / "demo_declaration.json").read_text(encoding="utf-8"))
PARTICIPANTS = {p["card_number"]: p for p in DEMO["participants"]}
CITIZENS = {c["personal_id"]: c for c in DEMO["citizens"]}


def member(card: str, relationship: str) -> dict[str, Any]:
    p = PARTICIPANTS[card]
    keys = ("card_number", "full_name", "date_of_birth", "gender")
    return {**{k: p[k] for k in keys}, "relationship": relationship, "months": 12}


def head(personal_id: str) -> dict[str, Any]:
    return {k: CITIZENS[personal_id][k] for k in ("full_name", "date_of_birth", "gender", "personal_id")}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    quick_retries = {
        "NOTIFY_RETRY_BASE_SECONDS": "1",
        "NOTIFY_RETRY_MAX_SECONDS": "4",
        "NOTIFY_SWEEP_SECONDS": "0.5",
    }
    with Stack.on_free_ports(
        tmp_path_factory.mktemp("declarant") / "var", seed=True, extra_env=quick_retries
    ) as running:
        yield running


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(stack, http_timeout=60) as client:
        yield client


async def eventually(probe: Callable[[], Any], what: str, within: float = 90) -> Any:
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}")
        await asyncio.sleep(0.3)


async def sms_to(stack: Stack, number: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=stack.urls.sms, timeout=10, limits=NO_KEEPALIVE) as sms:
        return (await sms.get("/api/v1/messages", params={"to": number})).json()


def mail_to(stack: Stack, address: str) -> list[Any]:
    return [m for m in read_mail(stack.mail_dir) if m["To"].addresses[0].addr_spec == address]


async def declare_and_pay(stack: Stack, api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/api/v1/renewals", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text
    return response.json()


async def pay(stack: Stack, api: httpx.AsyncClient, view: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.urls.bank, timeout=30, limits=NO_KEEPALIVE) as bank:
        paid = await bank.post(f"/api/v1/orders/{view['payment']['txn_ref']}/pay", json={})
        assert paid.status_code == 202, paid.text

    async def completed() -> dict[str, Any] | None:
        body = (await api.get(f"/api/v1/renewals/{view['application_id']}")).json()
        return body if body["status"] == "completed" else None

    return await eventually(completed, "the renewal completed")


async def test_the_declarant_gets_the_payment_due_and_success_notices_by_email_and_sms(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    declarant = {
        "full_name": "Trần Thị Bình",
        "personal_id": "001182004521",
        "relationship": "vợ",
        "phone": "0912 000 111",
        "email": "binh.tran@example.vn",
    }
    view = await declare_and_pay(stack, api, {**DEMO_DECLARATION, "declarant": declarant, "channel": "vssid"})
    assert view["status"] == "awaiting_payment", view
    due = await eventually(
        lambda: asyncio.sleep(0, mail_to(stack, "binh.tran@example.vn")), "payment-due email"
    )
    assert due[0]["Subject"] == "Thông báo số tiền phải nộp gia hạn thẻ BHYT hộ gia đình"
    assert due[0].get_content().startswith("Kính gửi Trần Thị Bình,")
    assert view["payment"]["txn_ref"] in due[0].get_content()
    [sms_due] = await eventually(lambda: sms_to(stack, "84912000111"), "payment-due SMS")
    assert sms_due["encoding"] == "GSM-7" and sms_due["segments"] == 1
    assert view["payment"]["txn_ref"] in sms_due["text"]

    final = await pay(stack, api, view)
    cards = [m["card_number"] for m in DEMO_DECLARATION["members"]]

    async def all_mail() -> list[Any] | None:
        mails = mail_to(stack, "binh.tran@example.vn")
        return mails if len(mails) == 1 + len(cards) else None

    mails = await eventually(all_mail, "a success email per card")
    texts = await eventually(
        lambda: _when(sms_to(stack, "84912000111"), lambda found: len(found) == 1 + len(cards)),
        "a success SMS per card",
    )
    for card in cards:
        [mail] = [m for m in mails if card in m.get_content()]
        assert mail["Subject"] == "Thông báo kết quả gia hạn thẻ BHYT thành công"
        assert RENEWAL_SUCCESS in " ".join(mail.get_content().split())
        [text] = [t for t in texts if card in t["text"]]
        assert text["encoding"] == "GSM-7" and text["segments"] == 1
    # Dung's card lapsed 90 days or more: it works from 30 days after payment, and she is told so
    dung = next(m for m in final["members"] if m["card_number"] == "GD4010101234570")
    assert dung["usable_from"] and "Thẻ có giá trị sử dụng từ ngày" in dung["message"]
    receipt = (await api.get(f"/api/v1/renewals/{view['application_id']}/receipt")).json()
    assert receipt["payer_name"] == "Trần Thị Bình"

    notices = (await api.get(f"/api/v1/renewals/{view['application_id']}/notices")).json()
    assert len(notices) == 1 + len(cards)
    for notice in notices:
        assert notice["addressee"] == "Trần Thị Bình"
        assert {d["channel"]: d["status"] for d in notice["deliveries"]} == {
            "email": "delivered",
            "sms": "delivered",
        }

    # the declarant is personal data: encrypted in the history, in no log, no search attribute
    temporal = await Client.connect(stack.urls.temporal, data_converter=CONVERTER)
    history = await raw_history(temporal, workflow_id(view["application_id"]))
    assert all(p.metadata.get("encoding") == b"binary/encrypted" for p in payloads(history))
    stored = history.SerializeToString()
    logs = {name: stack.log_path(name).read_text(encoding="utf-8") for name in ("worker", "api")}
    for value in ("Trần Thị Bình", "001182004521", "912000111", "binh.tran@example.vn"):
        assert value.encode() not in stored, f"{value!r} in the raw history"
        for name in ("worker", "api"):
            assert value not in logs[name], f"{value!r} in the {name}'s log"


async def _when(found: Any, ready: Callable[[Any], bool]) -> Any:
    value = await found
    return value if ready(value) else None


async def test_with_the_sms_gateway_down_email_still_arrives_and_sms_follows_once_it_is_back(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    body = {
        "head": head("040085001234"),
        "members": [member("GD4797901112234", "vợ"), member("GD4797901112235", "con")],
        "declarant": {
            "full_name": "Lê Văn Em",
            "personal_id": "040085001234",
            "relationship": "bản thân",
            "phone": "+84 987 654 321",
            "email": "em.le@example.vn",
        },
    }
    stack.kill("sms")
    try:
        view = await declare_and_pay(stack, api, body)
        assert view["status"] == "awaiting_payment", view
        await eventually(lambda: asyncio.sleep(0, mail_to(stack, "em.le@example.vn")), "payment-due email")

        async def sms_retrying() -> bool:
            notices = (await api.get(f"/api/v1/renewals/{view['application_id']}/notices")).json()
            states = {d["channel"]: d for d in notices[0]["deliveries"]}
            return states["email"]["status"] == "delivered" and states["sms"]["status"] == "retrying"

        await eventually(sms_retrying, "GET /notices: email delivered, SMS retrying")
        await pay(stack, api, view)
        await eventually(
            lambda: asyncio.sleep(0, len(mail_to(stack, "em.le@example.vn")) == 3),
            "every email while SMS is down",
        )
    finally:
        stack.restart("sms")
    texts = await eventually(
        lambda: _when(sms_to(stack, "84987654321"), lambda found: len(found) == 3),
        "every SMS once it is back",
    )
    assert all(t["segments"] == 1 for t in texts)
    notices = (await api.get(f"/api/v1/renewals/{view['application_id']}/notices")).json()
    assert {n["status"] for n in notices} == {"delivered"}
