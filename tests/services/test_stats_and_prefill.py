"""services.stats (`GET /api/v1/stats`, `starter.py stats --from`) and services.prefill (the
reminder's link): the records read directly."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.application import VIETNAM_TZ
from domain.models import ApplicationStatus
from domain.stats import Figures
from services.errors import NoSuchApplication
from services.prefill import latest_declaration
from services.stats import figures
from tests.services.conftest import a_view, recorded


async def test_figures_count_the_applications_declared_in_the_period(db) -> None:
    today = datetime.now(VIETNAM_TZ).date()
    before = await figures(db, today, today, "day")
    await recorded(db, a_view(ApplicationStatus.EXPIRED))
    after = await figures(db, today, today, "day")
    assert [p.period for p in after.periods] == [today.isoformat()]
    counted = before.periods[0].applications if before.periods else 0
    assert after.periods[0].applications == counted + 1
    assert await figures(db, date(2001, 1, 1), date(2001, 1, 31), "month") == Figures(
        start=date(2001, 1, 1), end=date(2001, 1, 31), by="month", periods=[]
    )


async def test_an_application_without_a_declaration_has_nothing_to_prefill(db) -> None:
    view = a_view(ApplicationStatus.EXPIRED)
    await recorded(db, view)  # on record, but no declaration
    with pytest.raises(NoSuchApplication):
        await latest_declaration(db, view.application_id)
    with pytest.raises(NoSuchApplication):
        await latest_declaration(db, "nope")
