"""The portal routes through the app: auth, validation, idempotency, not found, conflicts."""

from __future__ import annotations

import asyncio
import copy
import uuid

from domain.models import ApplicationStatus
from tests.api.conftest import AUTH, Api
from tests.workflows.test_renewal_workflow import DECLARATION


async def test_401_without_or_with_a_wrong_token(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = await api.http.post("/api/v1/renewals", json=DECLARATION, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert (await api.http.get(f"/api/v1/renewals/{uuid.uuid4()}")).status_code == 401
    assert api.backend.calls["verify_residence"] == 0


async def test_422_names_each_bad_field_echoes_no_value_and_starts_nothing(api: Api) -> None:
    bad = copy.deepcopy(DECLARATION)
    bad["members"][1]["card_number"] = "XX-SECRET-123"
    bad["head"]["date_of_birth"] = "not-a-date"
    response = await api.declare(bad)
    assert response.status_code == 422
    detail = response.json()["detail"]
    locs = {tuple(e["loc"]) for e in detail}
    assert ("body", "members", 1, "card_number") in locs
    assert any(loc[:3] == ("body", "head", "date_of_birth") for loc in locs)
    assert "XX-SECRET-123" not in response.text and "not-a-date" not in response.text

    not_an_object = await api.declare([1, 2])
    assert not_an_object.status_code == 422
    assert not_an_object.json()["detail"][0]["loc"] == ["body"]
    assert api.backend.calls["record_declaration"] == 0 and api.backend.calls["verify_residence"] == 0


async def test_201_gives_the_quote_and_the_payment_order(api: Api) -> None:
    response = await api.declare()
    assert response.status_code == 201
    view = response.json()
    assert view["status"] == ApplicationStatus.AWAITING_PAYMENT
    assert view["quote"]["total"] == view["payment"]["amount"] > 0
    got = await api.http.get(f"/api/v1/renewals/{view['application_id']}", headers=AUTH)
    assert got.status_code == 200 and got.json()["quote"] == view["quote"]


async def test_the_same_idempotency_key_finds_the_same_application(api: Api) -> None:
    key = f"portal-{uuid.uuid4()}"
    first = await api.declare(key=key)
    again = await api.declare(key=key)
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["application_id"] == first.json()["application_id"]
    assert again.json()["payment"]["txn_ref"] == first.json()["payment"]["txn_ref"]
    assert api.backend.calls["verify_residence"] == 1


async def test_409_when_an_idempotency_key_is_reused_for_another_declaration(api: Api) -> None:
    key = f"portal-{uuid.uuid4()}"
    assert (await api.declare(key=key)).status_code == 201
    other = copy.deepcopy(DECLARATION)
    other["members"][0]["months"] = 6
    response = await api.declare(other, key=key)
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]
    assert api.backend.calls["verify_residence"] == 1


async def test_404_for_unknown_or_malformed_ids_and_missing_receipts(api: Api) -> None:
    for path in (f"/api/v1/renewals/{uuid.uuid4()}", "/api/v1/renewals/not-a-uuid"):
        assert (await api.http.get(path, headers=AUTH)).status_code == 404
    assert (await api.http.post(f"/api/v1/renewals/{uuid.uuid4()}/cancel", headers=AUTH)).status_code == 404
    created = (await api.declare()).json()
    receipt = await api.http.get(f"/api/v1/renewals/{created['application_id']}/receipt", headers=AUTH)
    assert receipt.status_code == 404


async def test_cancel_while_awaiting_payment_then_again_is_200(api: Api) -> None:
    created = (await api.declare()).json()
    url = f"/api/v1/renewals/{created['application_id']}/cancel"
    first = await api.http.post(url, headers=AUTH)
    assert first.status_code == 200 and first.json()["status"] == ApplicationStatus.CANCELLED
    assert (await api.http.post(url, headers=AUTH)).status_code == 200


async def test_409_when_cancelling_a_paid_application(api: Api) -> None:
    created = (await api.declare()).json()
    application_id = created["application_id"]
    txn_ref, amount = created["payment"]["txn_ref"], created["payment"]["amount"]
    await api.order(application_id, txn_ref, amount)
    assert (await api.ipn(api.callback(txn_ref, amount)))["RspCode"] == "00"
    for _ in range(100):
        view = (await api.http.get(f"/api/v1/renewals/{application_id}", headers=AUTH)).json()
        if view["status"] == ApplicationStatus.COMPLETED:
            break
        await asyncio.sleep(0.05)
    response = await api.http.post(f"/api/v1/renewals/{application_id}/cancel", headers=AUTH)
    assert response.status_code == 409
    assert response.json()["detail"] == "cannot cancel: already paid"
