"""Notices reach the declarant by email (a real SMTP server, aiosmtpd) and by SMS (the SMS gateway
simulator), each channel with its own state: one channel down never holds up the other."""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.db import ApplicationRecord, Database, migrate_async
from adapters.notice_channels import EmailChannel, SmsChannel
from adapters.notifications import Notice, Notifier
from domain.messages import RENEWAL_SUCCESS
from domain.models import Declaration
from simulators.mailbox import read_mail, serve
from simulators.sms import create_app as create_sms
from tests.support.portal import declaration, person

DECLARANT = {
    "full_name": "Nguyễn Thị Mai",
    "personal_id": "001190012399",
    "relationship": "con dâu",
    "phone": "0912345678",
    "email": "mai.nguyen@example.vn",
}
SMS_KEY = "test-sms-key"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    await migrate_async(url)
    database = Database(url)
    yield database
    await database.dispose()


@pytest.fixture
async def smtp(tmp_path):
    """A real SMTP server (aiosmtpd) on a free port, keeping mail in a Maildir."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stop = asyncio.Event()
    server = asyncio.create_task(serve("127.0.0.1", port, tmp_path / "mail", stop))
    for _ in range(100):
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.02)
    yield f"smtp://127.0.0.1:{port}", tmp_path / "mail"
    stop.set()
    await server


@pytest.fixture
def sms_gateway(tmp_path):
    return create_sms(tmp_path / "sms.db", api_key=SMS_KEY)


async def declared(db: Database, application_id: str, declarant: dict | None = DECLARANT) -> None:
    body = declaration(person(0, relationship="chủ hộ"))
    if declarant is not None:
        body["declarant"] = declarant
    async with db.unit_of_work() as uow:
        await uow.repo.save_application(
            ApplicationRecord(
                application_id=application_id,
                status="awaiting_payment",
                declaration=Declaration.model_validate(body),
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
        )
        await uow.commit()


def notifier_for(db, smtp_url, gateway, clock, **kwargs) -> Notifier:
    return Notifier(
        db,
        None,
        email=EmailChannel(smtp_url, "BHXH Việt Nam <thongbao@bhyt.local>"),
        sms=SmsChannel("http://sms", SMS_KEY, transport=httpx.ASGITransport(app=gateway)),
        retry_base_seconds=10,
        clock=clock,
        **kwargs,
    )


async def sent_sms(gateway) -> list[dict]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://sms") as c:
        return (await c.get("/api/v1/messages")).json()


async def set_knobs(gateway, **knobs) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://sms") as c:
        (await c.put("/admin/knobs", json=knobs)).raise_for_status()


def renewed(application_id: str, usable_from: str | None = None) -> Notice:
    return Notice(
        application_id,
        "renewed",
        "GD4010101234567",
        RENEWAL_SUCCESS,
        {"receipt": "BH26/2026/0000001", "valid_from": "2026-12-05", "valid_to": "2027-12-04",
         "usable_from": usable_from},
    )  # fmt: skip


async def test_a_notice_reaches_the_declarant_by_email_and_by_sms(db, smtp, sms_gateway) -> None:
    smtp_url, maildir = smtp
    await declared(db, "app-1")
    notifier = notifier_for(db, smtp_url, sms_gateway, Clock())
    await notifier.record(renewed("app-1"))
    assert await notifier.retry_pending() == 2

    [mail] = read_mail(maildir)
    assert mail["To"].addresses[0].addr_spec == "mai.nguyen@example.vn"
    assert mail["To"].addresses[0].display_name == "Nguyễn Thị Mai"
    assert mail["Subject"] == "Thông báo kết quả gia hạn thẻ BHYT thành công"
    body = mail.get_content()
    assert body.startswith("Kính gửi Nguyễn Thị Mai,") and RENEWAL_SUCCESS in body
    assert "GD4010101234567" in body and "04/12/2027" in body

    [sms] = await sent_sms(sms_gateway)
    assert sms["recipient"] == "84912345678" and sms["encoding"] == "GSM-7" and sms["segments"] == 1
    assert sms["text"].startswith("BHXH: The BHYT GD4010101234567 da gia han den 04/12/2027.")

    async with db.unit_of_work(read_only=True) as uow:
        [view] = await uow.repo.notices_of("app-1")
    assert view.status == "delivered" and view.addressee == "Nguyễn Thị Mai"
    assert {(d.channel, d.status) for d in view.deliveries} == {("email", "delivered"), ("sms", "delivered")}
    assert await notifier.retry_pending() == 0  # nothing sent twice
    assert len(read_mail(maildir)) == 1 and len(await sent_sms(sms_gateway)) == 1


async def test_with_the_sms_gateway_down_email_goes_and_sms_follows_once_it_is_back(
    db, smtp, sms_gateway
) -> None:
    smtp_url, maildir = smtp
    await declared(db, "app-2")
    clock = Clock()
    notifier = notifier_for(db, smtp_url, sms_gateway, clock)
    await set_knobs(sms_gateway, down=True)
    await notifier.record(renewed("app-2"))
    assert await notifier.retry_pending() == 1
    assert len(read_mail(maildir)) == 1 and await sent_sms(sms_gateway) == []
    async with db.unit_of_work(read_only=True) as uow:
        [view] = await uow.repo.notices_of("app-2")
    states = {d.channel: d for d in view.deliveries}
    assert view.status == "retrying" and states["email"].status == "delivered"
    assert states["sms"].status == "retrying" and states["sms"].last_error == "HTTP 503"
    assert states["sms"].next_attempt_at == clock.now + timedelta(seconds=10)

    await set_knobs(sms_gateway, down=False)
    assert await notifier.retry_pending() == 0  # waiting its backoff
    clock.now += timedelta(seconds=10)
    assert await notifier.retry_pending() == 1
    assert len(await sent_sms(sms_gateway)) == 1 and len(read_mail(maildir)) == 1


async def test_a_rotated_sms_key_is_retried_and_alerted_without_personal_data(
    db, smtp, sms_gateway, caplog
) -> None:
    smtp_url, _maildir = smtp
    await declared(db, "app-3")
    notifier = notifier_for(db, smtp_url, sms_gateway, Clock())
    await set_knobs(sms_gateway, unauthorized=True)
    await notifier.record(renewed("app-3"))
    with caplog.at_level(logging.INFO):
        await notifier.retry_pending()
    alerts = [r.getMessage() for r in caplog.records if "authentication refused" in r.getMessage()]
    assert alerts
    for line in (r.getMessage() for r in caplog.records):
        for secret in ("Mai", "0912345678", "84912345678", "mai.nguyen", "GD4010101234567"):
            assert secret not in line
    async with db.unit_of_work(read_only=True) as uow:
        [view] = await uow.repo.notices_of("app-3")
    assert {d.channel: d.status for d in view.deliveries}["sms"] == "retrying"


async def test_a_declaration_without_contact_leaves_by_the_webhook_only(db, smtp, sms_gateway) -> None:
    smtp_url, maildir = smtp
    await declared(db, "app-4", declarant=None)
    posted: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200)

    notifier = Notifier(
        db,
        "http://portal.test/hook",
        httpx.MockTransport(hook),
        email=EmailChannel(smtp_url, "x@bhyt.local"),
        sms=SmsChannel("http://sms", SMS_KEY, transport=httpx.ASGITransport(app=sms_gateway)),
    )
    await notifier.record(renewed("app-4"))
    assert await notifier.retry_pending() == 1
    assert len(posted) == 1 and read_mail(maildir) == [] and await sent_sms(sms_gateway) == []
    import json

    assert json.loads(posted[0].content)["addressee"] == declaration()["head"]["full_name"]
