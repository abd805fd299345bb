"""The household contribution (step 2c): base salary, reduction ladder, quote.

Luật BHYT Điều 13 as amended by Luật 51/2024/QH15 and NĐ 188/2025/NĐ-CP: the first person
pays 4.5% of the base salary a month; the second, third and fourth pay 70%, 60% and 50% of
the first person's amount, the fifth and later 40%. Money is integer đồng: no float touches it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.models import RENEWAL_MONTHS, Quote, QuoteLine
from domain.validity import renewal_period
from domain.words import amount_in_words


@dataclass(frozen=True)
class BaseSalary:
    effective_from: date
    amount: int


BASE_SALARY_TABLE: tuple[BaseSalary, ...] = (
    BaseSalary(date(2019, 7, 1), 1_490_000),  # NĐ 38/2019/NĐ-CP
    BaseSalary(date(2023, 7, 1), 1_800_000),  # NĐ 24/2023/NĐ-CP
    BaseSalary(date(2024, 7, 1), 2_340_000),  # NĐ 73/2024/NĐ-CP
    BaseSalary(date(2026, 7, 1), 2_530_000),
)
"""Mức lương cơ sở by the date it takes effect. It changes by decree: add a row, not code."""

FIRST_PERSON_PER_MILLE = 45
"""4.5% of the base salary, kept as an integer per-mille so the arithmetic stays exact."""

LADDER_PERCENT = (100, 70, 60, 50, 40)
"""Percent of the first person's amount, by position; the last entry applies to every later one."""


def base_salary_on(day: date, table: Sequence[BaseSalary] = BASE_SALARY_TABLE) -> int:
    """The base salary in force on `day` (the table need not be sorted)."""
    rows = sorted(table, key=lambda row: row.effective_from)
    index = bisect.bisect_right([row.effective_from for row in rows], day) - 1
    if index < 0:
        raise ValueError("no base salary is known for that date")
    return rows[index].amount


def ladder_percent(position: int) -> int:
    if position < 1:
        raise ValueError("position in the reduction order starts at 1")
    return LADDER_PERCENT[min(position, len(LADDER_PERCENT)) - 1]


def rate_percent(position: int) -> Decimal:
    """Percent of the base salary paid at this position: 4.5, 3.15, 2.7, 2.25, 1.8."""
    rate = Decimal(FIRST_PERSON_PER_MILLE) / 10 * ladder_percent(position) / 100
    return rate.normalize()


def format_percent(rate: Decimal) -> str:
    """'3.15', '4.5', '1.8': plain notation, no trailing zeros (normalize alone may give '1E+1')."""
    return format(rate.normalize(), "f")


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def monthly_amount(base_salary: int, position: int) -> int:
    """Monthly contribution in whole đồng at this position.

    The later positions are a percentage of the first person's *amount*, as the law words it,
    not of the base salary. Each step is exact for every base salary so far; where a future one
    is not, it is rounded half up to the đồng (amounts are whole đồng; half-up is how the
    collection offices round).
    """
    if base_salary < 0:
        raise ValueError("base salary must not be negative")
    percent = ladder_percent(position)
    first = _round_half_up(base_salary * FIRST_PERSON_PER_MILLE, 1000)
    return _round_half_up(first * percent, 100)


@dataclass(frozen=True)
class QuoteInput:
    """One eligible member to price, in declared order."""

    card_number: str
    bhxh_number: str
    member_name: str
    months: int
    current_valid_to: date | None
    office_code: str
    province_code: str


def compute_quote(
    members: Sequence[QuoteInput],
    *,
    paid_positions_before: int,
    quote_date: date,
    table: Sequence[BaseSalary] = BASE_SALARY_TABLE,
) -> Quote:
    """Price the eligible members; positions continue after those already paid this fiscal year.

    The base salary in force on the quote date applies to the whole period, and the validity
    dates are those a payment on the quote date would give.
    """
    if not members:
        raise ValueError("a quote needs at least one eligible member")
    if paid_positions_before < 0:
        raise ValueError("paid_positions_before must not be negative")
    base = base_salary_on(quote_date, table)
    lines: list[QuoteLine] = []
    for index, member in enumerate(members):
        if member.months not in RENEWAL_MONTHS:
            raise ValueError("months must be 3, 6 or 12")
        position = 1 + paid_positions_before + index
        monthly = monthly_amount(base, position)
        valid_from, valid_to = renewal_period(member.current_valid_to, quote_date, member.months)
        lines.append(
            QuoteLine(
                card_number=member.card_number,
                bhxh_number=member.bhxh_number,
                member_name=member.member_name,
                position=position,
                base_salary=base,
                rate_percent=format_percent(rate_percent(position)),
                monthly_amount=monthly,
                months=member.months,
                amount=monthly * member.months,
                valid_from=valid_from,
                valid_to=valid_to,
                office_code=member.office_code,
                province_code=member.province_code,
            )
        )
    total = sum(line.amount for line in lines)
    return Quote(
        quote_date=quote_date,
        base_salary=base,
        lines=lines,
        total=total,
        total_in_words=amount_in_words(total),
        paid_positions_before=paid_positions_before,
    )
