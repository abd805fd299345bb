"""The declarant (issue 22 findings 1 and 2): who declares is told, pays and is named on the receipt;
and a member whose new card starts later than the notice is told from when it can be used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from domain.application import vietnam_date
from domain.messages import RENEWAL_SUCCESS
from tests.support import reference_data
from tests.support.portal import Portal, declaration, person, portal

KHANH = 4  # an employee (DN) card in the reference data, household HN-BD-0001

DECLARANT = {
    "full_name": "Nguyễn Thị Mai",
    "personal_id": "001190012399",
    "relationship": "con dâu",
    "phone": "0912 345 678",
    "email": "mai.nguyen@example.vn",
}


async def test_the_declarant_pays_is_named_on_the_receipt_and_is_addressed_by_every_notice(
    api: Portal,
) -> None:
    """Finding 1: no declarant: the receipt's payer was always the head, notices went to 'declarant'."""
    body = {**declaration(person(0, relationship="chủ hộ")), "declarant": DECLARANT, "channel": "vssid"}
    answer = await api.declare(body)
    assert answer.status_code == 201, answer.text
    view = answer.json()
    assert view["status"] == "awaiting_payment", view
    assert view["addressee"] == "Nguyễn Thị Mai"  # the quote is addressed to the declarant
    final = await api.pay(view, at=datetime.now(UTC))
    assert final.status == "completed"
    assert final.receipt is not None and final.receipt.payer_name == "Nguyễn Thị Mai"
    receipt = (await api.get(f"/{view['application_id']}/receipt")).json()
    assert receipt["payer_name"] == "Nguyễn Thị Mai"
    assert (await api.get(f"/{view['application_id']}")).json()["addressee"] == "Nguyễn Thị Mai"
    notices = (await api.get(f"/{view['application_id']}/notices")).json()
    assert {n["kind"] for n in notices} == {"payment_due", "renewed"}
    assert all(n["addressee"] == "Nguyễn Thị Mai" for n in notices), notices
    async with api.db.unit_of_work(read_only=True) as uow:
        record = await uow.repo.get_application(view["application_id"])
    assert record is not None and record.declaration is not None
    assert record.declaration.declarant is not None
    assert record.declaration.declarant.phone == "0912345678"
    assert record.declaration.channel == "vssid"


async def test_a_portal_client_that_sends_no_declarant_keeps_working_the_head_declares(api: Portal) -> None:
    view = (await api.declare(declaration(person(0, relationship="chủ hộ")))).json()
    assert view["status"] == "awaiting_payment", view
    final = await api.pay(view, at=datetime.now(UTC))
    assert final.receipt is not None and final.receipt.payer_name == declaration()["head"]["full_name"]
    notices = (await api.get(f"/{view['application_id']}/notices")).json()
    assert notices and all(n["addressee"] == declaration()["head"]["full_name"] for n in notices)
    async with api.db.unit_of_work(read_only=True) as uow:
        record = await uow.repo.get_application(view["application_id"])
    assert record is not None and record.declaration is not None and record.declaration.channel == "portal"


async def test_bad_declarant_fields_are_named_never_echoed_and_start_nothing(api: Portal) -> None:
    bad = {
        **DECLARANT,
        "personal_id": "12345",
        "phone": "0123 456 789",
        "email": "mai at example",
        "relationship": "",
    }
    body = {**declaration(person(0, relationship="chủ hộ")), "declarant": bad, "channel": "fax"}
    answer = await api.declare(body)
    assert answer.status_code == 422
    locs = {tuple(e["loc"]) for e in answer.json()["detail"]}
    assert {
        ("body", "declarant", "personal_id"),
        ("body", "declarant", "phone"),
        ("body", "declarant", "email"),
        ("body", "declarant", "relationship"),
        ("body", "channel"),
    } <= locs, locs
    for secret in ("12345", "0123 456 789", "mai at example", "fax"):
        assert secret not in answer.text
    assert not api.started


async def test_a_member_whose_new_card_starts_later_is_told_from_when_it_can_be_used(
    temporal_env: WorkflowEnvironment, tmp_path
) -> None:
    """Finding 2: a lapsed (90 days or more) employee joining the household form is renewed from
    30 days after payment; the prescribed text alone tells them 'from today'."""
    data = reference_data()
    data["participants"][KHANH]["valid_to"] = "2026-01-31"  # the employment ended long ago: lapsed
    async with portal(temporal_env, tmp_path, data) as api:
        body = declaration(person(0, relationship="chủ hộ"), person(KHANH, relationship="em gái"))
        view = (await api.declare(body)).json()
        assert view["status"] == "awaiting_payment", view
        paid_at = datetime.now(UTC)
        await api.pay(view, at=paid_at)
        starts = vietnam_date(paid_at) + timedelta(days=30)
        added = f"Thẻ có giá trị sử dụng từ ngày {starts:%d/%m/%Y}"

        members = {m["card_number"]: m for m in (await api.get(f"/{view['application_id']}")).json()["members"]}
        lapsed, head_card = members["GD4010101234571"], members["GD4010101234567"]
        assert lapsed["valid_from"] == starts.isoformat()
        assert lapsed["message"].startswith(RENEWAL_SUCCESS) and added in lapsed["message"], lapsed
        assert head_card["message"] == RENEWAL_SUCCESS  # still covered: the prescribed words alone

        notices = {n["recipient"]: n for n in (await api.get(f"/{view['application_id']}/notices")).json()}
        assert notices["GD4010101234571"]["message"] == lapsed["message"]
        assert notices["GD4010101234567"]["message"] == RENEWAL_SUCCESS
