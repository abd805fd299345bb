"""The figures dashboard's SQL (deploy/grafana/dashboards/bhyt-figures.json) runs on the schema
the migrations build, and its daily series agree with `starter.py stats --by day`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import text

from adapters.db.stats import period_figures
from domain.application import VIETNAM_TZ
from tests.adapters.db.test_db_stats import seeded  # noqa: F401 - the fixture

DASHBOARD = Path(__file__).resolve().parents[3] / "deploy/grafana/dashboards/bhyt-figures.json"
RANGE = "a.created_at >= '2026-11-30 17:00+00' AND a.created_at < '2026-12-02 17:00+00'"


def queries() -> dict[str, str]:
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return {
        p["title"]: p["targets"][0]["rawSql"].replace("$__timeFilter(a.created_at)", RANGE) for p in panels
    }


async def test_the_dashboard_series_are_the_stats_per_day(seeded):  # noqa: F811
    if seeded.dialect != "postgresql":
        return  # Grafana reads the production database only
    async with seeded.unit_of_work(read_only=True) as uow:
        figures = await period_figures(uow.session, date(2026, 12, 1), date(2026, 12, 2), "day")
        series = {
            title: (await uow.session.execute(text(sql))).mappings().all() for title, sql in queries().items()
        }
    assert len(series) == 4
    by_channel = series["Applications declared per day, by channel"]
    days = [p.period for p in figures.periods]
    assert sorted({str(r["time"].astimezone(VIETNAM_TZ).date()) for r in by_channel}) == days
    assert sum(r["value"] for r in by_channel) == sum(p.applications for p in figures.periods)
    completed = series["Completed per day, and the share declared online"]
    assert [(r["completed"], r["completed_online"]) for r in completed] == [
        (p.completed, p.completed_online) for p in figures.periods
    ]
    money = series["Collected and refunded per day (đồng)"]
    assert [(r["collected"], r["refunded"] or 0) for r in money] == [
        (p.collected, p.refunded) for p in figures.periods
    ]
    medians = series["Median time from declaration to payment, per day"]
    assert [r["median_seconds"] for r in medians] == [p.median_seconds_to_payment for p in figures.periods]
