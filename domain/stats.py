"""The figures BHXH reports for the online renewal (issue 22, finding 4; seed 000: cases per
service, the share done online), per day or month of declaration. Plain data: the database
computes them (adapters/db/stats.py), the starter and the operator API show them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from domain.application import VIETNAM_TZ

Granularity = Literal["day", "month"]

CHANNELS = ("portal", "vssid", "national_portal", "office")
"""Where a declaration comes from; every channel but `office` is online."""
OFFLINE_CHANNELS = ("office",)


class PeriodFigures(BaseModel):
    """One day or month (Vietnam time) of declarations, and what became of them."""

    period: str = Field(description="YYYY-MM-DD or YYYY-MM, the declaration date in Vietnam (GMT+7)")
    applications: int
    by_status: dict[str, int]
    by_channel: dict[str, int]
    by_province: dict[str, int] = Field(description="province code of the cards quoted ('--': not quoted)")
    renewed_by_office: dict[str, int] = Field(description="cards renewed, by the BHXH office managing them")
    members_renewed: int
    collected: int = Field(description="đồng received from the bank (paid transactions)")
    refunded: int = Field(description="đồng of those transactions refunded")
    completed: int
    completed_online: int = Field(description="completed applications declared through an online channel")
    share_completed_online: float | None = Field(description="completed_online / completed; null when none")
    median_seconds_to_payment: float | None = Field(
        description="median time from declaration to the first paid bank transaction; null when none paid"
    )


class Figures(BaseModel):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    by: Granularity
    periods: list[PeriodFigures]

    model_config = {"populate_by_name": True}


def utc_range(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants of Vietnam days `start` to `end`, both included: [start 00:00, end+1 00:00)."""
    first = datetime.combine(start, time.min, tzinfo=VIETNAM_TZ).astimezone(UTC)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=VIETNAM_TZ).astimezone(UTC)
    return first, after
