"""The operator's figures per day or month of declaration (`GET /api/v1/stats`, `starter.py stats
--from`): SQL aggregates over the BHXH database (adapters/db/stats.py), the same for both."""

from __future__ import annotations

from datetime import date

from adapters.db import Database
from adapters.db.stats import period_figures
from domain.stats import Figures, Granularity


async def figures(db: Database, start: date, end: date, by: Granularity) -> Figures:
    """The figures of the declarations from `start` to `end` (both included)."""
    async with db.unit_of_work(read_only=True) as uow:
        return await period_figures(uow.session, start, end, by)
