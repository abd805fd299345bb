"""`GET /renewals/{id}/prefill`: the reminder's link — the household's members as last declared,
each with the card BHXH holds today."""

from __future__ import annotations

import random
from datetime import date, timedelta

from domain.validation import parse_declaration
from tests.api.conftest import AUTH
from tests.support.households import at, declared, household, load

TODAY = date(2026, 12, 5)


async def test_the_members_as_last_declared_with_their_current_cards(api):
    code = f"HH-{random.randrange(10**8)}"
    first = random.randrange(10_000, 99_000)
    data = household(code, first, [TODAY + timedelta(days=20), TODAY + timedelta(days=200)])
    await load(api.db, data)
    await declared(
        api.db, f"{code}-a", code, "completed", created_at=at(TODAY - timedelta(days=365)), data=data
    )
    # the later declaration had only the first member, for 6 months
    later = {**data, "participants": data["participants"][:1]}
    await declared(
        api.db, f"{code}-b", code, "expired", created_at=at(TODAY - timedelta(days=30)), data=later
    )

    # the old application's id names the household: the answer is its most recent declaration
    response = await api.http.get(f"/api/v1/renewals/{code}-a/prefill", headers=AUTH)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["based_on_application_id"] == f"{code}-b"
    [member] = body["declaration"]["members"]
    assert member["card_number"] == data["participants"][0]["card_number"]
    assert body["current_cards"] == [
        {
            "card_number": data["participants"][0]["card_number"],
            "group": "GD",
            "valid_from": "2025-12-01",
            "valid_to": (TODAY + timedelta(days=20)).isoformat(),
        }
    ]
    # the declaration is a valid body for POST /renewals as it stands
    assert parse_declaration(body["declaration"], today=TODAY).members[0].months == 12


async def test_unknown_application_and_no_token(api):
    assert (await api.http.get("/api/v1/renewals/nope/prefill", headers=AUTH)).status_code == 404
    assert (await api.http.get("/api/v1/renewals/nope/prefill")).status_code == 401
