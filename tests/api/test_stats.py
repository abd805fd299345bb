"""`GET /api/v1/stats`: the figures per period, for operators only (issue 22, finding 4)."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.db.orm import ApplicationRow
from tests.api.conftest import AUTH

OPERATOR = {"Authorization": "Bearer dev-operator-token"}


async def test_operators_get_the_figures_per_period(api):
    async with api.db.unit_of_work() as uow:
        for n, (day, channel, status) in enumerate(
            [(3, "portal", "completed"), (3, "office", "completed"), (4, "vssid", "expired")]
        ):
            created = datetime(2020, 2, day, 5, tzinfo=UTC)
            uow.session.add(
                ApplicationRow(
                    application_id=f"stats-{n}", status=status, channel=channel, province_code="01",
                    member_count=1, created_at=created, updated_at=created,
                )
            )  # fmt: skip
        await uow.commit()

    response = await api.http.get(
        "/api/v1/stats", params={"from": "2020-02-01", "to": "2020-02-29"}, headers=OPERATOR
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], body["by"]) == ("2020-02-01", "2020-02-29", "day")
    first, second = body["periods"]
    assert first["period"] == "2020-02-03" and first["by_channel"] == {"portal": 1, "office": 1}
    assert first["share_completed_online"] == 0.5
    assert second["by_status"] == {"expired": 1}
    monthly = await api.http.get(
        "/api/v1/stats", params={"from": "2020-02-01", "to": "2020-02-29", "by": "month"}, headers=OPERATOR
    )
    assert [p["applications"] for p in monthly.json()["periods"]] == [3]


async def test_only_operators_and_only_a_sensible_range(api):
    week = {"from": "2020-02-01", "to": "2020-02-07"}
    assert (await api.http.get("/api/v1/stats", params=week)).status_code == 401
    assert (await api.http.get("/api/v1/stats", params=week, headers=AUTH)).status_code == 403
    reversed_range = await api.http.get(
        "/api/v1/stats", params={"from": "2020-02-07", "to": "2020-02-01"}, headers=OPERATOR
    )
    assert reversed_range.status_code == 422
    assert reversed_range.json()["detail"][0]["loc"] == ["query", "to"]
    wrong = await api.http.get("/api/v1/stats", params={**week, "by": "week"}, headers=OPERATOR)
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["query", "by"]
    assert "week" not in wrong.text
