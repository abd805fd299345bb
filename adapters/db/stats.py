"""The period figures (domain/stats.py) as SQL aggregates, one GROUP BY per facet.

Every figure is grouped in the database (no row comes back to Python, only one per period and
category), over the applications declared in the range (index `ix_applications_created_at`).
The period is the declaration's Vietnam day or month; what became of an application (cards
renewed, money, time to payment) counts in the period it was declared. The median is
`percentile_cont` on PostgreSQL and the middle row(s) of a window on SQLite.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from adapters.db.orm import AllocationRow, ApplicationRow, BankPaymentRow
from domain.models import ApplicationStatus
from domain.stats import OFFLINE_CHANNELS, Figures, Granularity, PeriodFigures, utc_range

SQLITE_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m"}
POSTGRES_FORMATS = {"day": "YYYY-MM-DD", "month": "YYYY-MM"}


def period_of(dialect: str, column: Any, by: Granularity) -> ColumnElement[str]:
    """The Vietnam day or month of a UTC timestamp column, as text (Vietnam keeps UTC+7 all year)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(inline("Asia/Ho_Chi_Minh"), column), inline(POSTGRES_FORMATS[by]))
    return func.strftime(inline(SQLITE_FORMATS[by]), column, inline("+7 hours"))


def inline(constant: str) -> ColumnElement[str]:
    """A constant of ours written into the statement, not bound: PostgreSQL matches a GROUP BY
    expression with the selected one only when they are the same text, parameters included."""
    assert "'" not in constant
    return literal_column(f"'{constant}'")


def seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[float]:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


class StatsQuery:
    def __init__(self, session: AsyncSession, start: date, end: date, by: Granularity) -> None:
        self.session, self.start, self.end, self.by = session, start, end, by
        self.dialect = session.get_bind().dialect.name
        self.period = period_of(self.dialect, ApplicationRow.created_at, by).label("period")
        first, after = utc_range(start, end)
        self.in_range = and_(ApplicationRow.created_at >= first, ApplicationRow.created_at < after)

    async def figures(self) -> Figures:
        facets: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
        totals: dict[str, dict[str, Any]] = defaultdict(dict)
        for name, column in (
            ("by_status", ApplicationRow.status),
            ("by_province", ApplicationRow.province_code),
        ):
            rows = await self.session.execute(
                select(self.period, func.coalesce(column, inline("--")), func.count())
                .where(self.in_range)
                .group_by(self.period, func.coalesce(column, inline("--")))
            )
            for period, key, count in rows:
                facets[period][name][key] = int(count)
        completed = case((ApplicationRow.status == ApplicationStatus.COMPLETED.value, 1), else_=0)
        rows = await self.session.execute(
            select(self.period, ApplicationRow.channel, func.count(), func.sum(completed))
            .where(self.in_range)
            .group_by(self.period, ApplicationRow.channel)
        )
        for period, channel, count, done in rows:
            facets[period]["by_channel"][channel] = int(count)
            t = totals[period]
            t["applications"] = t.get("applications", 0) + int(count)
            t["completed"] = t.get("completed", 0) + int(done or 0)
            if channel not in OFFLINE_CHANNELS:
                t["completed_online"] = t.get("completed_online", 0) + int(done or 0)
        rows = await self.session.execute(
            select(self.period, AllocationRow.office_code, func.count())
            .join(ApplicationRow, ApplicationRow.application_id == AllocationRow.application_id)
            .where(self.in_range)
            .group_by(self.period, AllocationRow.office_code)
        )
        for period, office, count in rows:
            facets[period]["renewed_by_office"][office] = int(count)
            totals[period]["members_renewed"] = totals[period].get("members_renewed", 0) + int(count)
        refunded = case((BankPaymentRow.refund_status == "refunded", BankPaymentRow.amount), else_=0)
        rows = await self.session.execute(
            select(self.period, func.sum(BankPaymentRow.amount), func.sum(refunded))
            .join(ApplicationRow, ApplicationRow.txn_ref == BankPaymentRow.txn_ref)
            .where(self.in_range, BankPaymentRow.is_paid.is_(True))
            .group_by(self.period)
        )
        for period, collected, back in rows:
            totals[period].update(collected=int(collected or 0), refunded=int(back or 0))
        for period, median in await self.medians():
            totals[period]["median_seconds_to_payment"] = None if median is None else round(float(median), 1)
        return Figures(
            start=self.start,
            end=self.end,
            by=self.by,
            periods=[self._period(p, facets[p], totals[p]) for p in sorted(set(facets) | set(totals))],
        )

    async def medians(self) -> list[tuple[str, float | None]]:
        """Median seconds from declaration to the first paid transaction, per period."""
        seconds = seconds_between(self.dialect, func.min(BankPaymentRow.pay_date), ApplicationRow.created_at)
        paid = (
            select(self.period, seconds.label("seconds"))
            .join(BankPaymentRow, BankPaymentRow.txn_ref == ApplicationRow.txn_ref)
            .where(self.in_range, BankPaymentRow.is_paid.is_(True))
            .group_by(ApplicationRow.application_id, ApplicationRow.created_at)
        )
        if self.dialect == "postgresql":
            paid_sq = paid.subquery()
            median = func.percentile_cont(0.5).within_group(cast(paid_sq.c.seconds, Float))
            rows = await self.session.execute(select(paid_sq.c.period, median).group_by(paid_sq.c.period))
            return [(p, m) for p, m in rows]
        ranked_sq = paid.subquery()
        ranked = select(
            ranked_sq.c.period,
            ranked_sq.c.seconds,
            func.row_number().over(partition_by=ranked_sq.c.period, order_by=ranked_sq.c.seconds).label("n"),
            func.count().over(partition_by=ranked_sq.c.period).label("total"),
        ).subquery()
        middle = ranked.c.n.in_([(ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2])
        rows = await self.session.execute(
            select(ranked.c.period, func.avg(cast(ranked.c.seconds, Float)))
            .where(middle)
            .group_by(ranked.c.period)
        )
        return [(p, m) for p, m in rows]

    @staticmethod
    def _period(period: str, facet: dict[str, dict[str, int]], t: dict[str, Any]) -> PeriodFigures:
        completed = t.get("completed", 0)
        online = t.get("completed_online", 0)
        return PeriodFigures(
            period=period,
            applications=t.get("applications", 0),
            by_status=dict(facet.get("by_status", {})),
            by_channel=dict(facet.get("by_channel", {})),
            by_province=dict(facet.get("by_province", {})),
            renewed_by_office=dict(facet.get("renewed_by_office", {})),
            members_renewed=t.get("members_renewed", 0),
            collected=t.get("collected", 0),
            refunded=t.get("refunded", 0),
            completed=completed,
            completed_online=online,
            share_completed_online=round(online / completed, 4) if completed else None,
            median_seconds_to_payment=t.get("median_seconds_to_payment"),
        )


async def period_figures(session: AsyncSession, start: date, end: date, by: Granularity = "day") -> Figures:
    return await StatsQuery(session, start, end, by).figures()


__all__ = ["StatsQuery", "period_figures", "period_of"]
