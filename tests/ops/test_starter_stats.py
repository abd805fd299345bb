"""`starter.py stats --from … --to … [--by day|month]` (issue 22, finding 4: the stats had no
period and no channel, and applications did not record their channel)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

import starter
from adapters.db import Database, migrate_async
from adapters.db.orm import ApplicationRow
from config import get_settings


@pytest.fixture
def database(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'bhyt.db'}"

    async def seed() -> None:
        await migrate_async(url)
        db = Database(url)
        async with db.unit_of_work() as uow:
            for n, (day, channel, status) in enumerate(
                [
                    (1, "portal", "completed"),
                    (1, "vssid", "completed"),
                    (2, "office", "completed"),
                    (2, None, "cancelled"),
                ]
            ):
                created = datetime(2026, 12, day, 3, tzinfo=UTC)
                uow.session.add(
                    ApplicationRow(
                        application_id=f"a{n}", status=status, province_code="01", member_count=1,
                        created_at=created, updated_at=created, **({"channel": channel} if channel else {}),
                    )
                )  # fmt: skip
            await uow.commit()
        await db.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_figures_per_day_with_the_channel(database, capsys):  # type: ignore[no-untyped-def]
    assert starter.main(["stats", "--from", "2026-12-01", "--to", "2026-12-02"]) == 0
    out = capsys.readouterr().out
    assert "figures of 2026-12-01 to 2026-12-02 by day" in out
    first = next(line for line in out.splitlines() if line.startswith("2026-12-01"))
    assert first.split()[1:4] == ["2", "2", "100.0"]  # applications, completed, online %
    assert "by channel" in out and "national_portal" not in out
    channel_table = out.split("by channel", 1)[1].split("\n\n", 1)[0]
    assert channel_table.splitlines()[1].split() == ["period", "office", "portal", "vssid"]


def test_figures_per_month_as_json(database, capsys):  # type: ignore[no-untyped-def]
    assert (
        starter.main(["stats", "--from", "2026-12-01", "--to", "2026-12-31", "--by", "month", "--json"]) == 0
    )
    body = json.loads(capsys.readouterr().out)
    [month] = body["periods"]
    # an application that gave no channel came through the portal (the column's default)
    assert month["by_channel"] == {"portal": 2, "vssid": 1, "office": 1}
    assert (month["completed"], month["completed_online"], month["share_completed_online"]) == (3, 2, 0.6667)


def test_a_reversed_range_is_refused(database, capsys):  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        starter.main(["stats", "--from", "2026-12-02", "--to", "2026-12-01"])
    assert "--to is before --from" in capsys.readouterr().err
