"""When a renewed card is valid (Luật 51/2024 amending Luật BHYT Điều 16 k3; NĐ 188/2025 Điều 13).

- still valid on the payment date: the new period continues the day after the current expiry;
- lapsed for fewer than 90 days: valid from the payment date;
- lapsed 90 days or more, or never participated: valid from 30 days after the payment date;
- the period lasts the months paid: it ends the day before the same day-of-month N months on,
  or on the last day of that month when the day does not exist there (31 Jan + 1 month ends on
  28/29 Feb), so a period never spills into the next month.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

LAPSE_LIMIT_DAYS = 90
WAITING_DAYS = 30


def period_end(start: date, months: int) -> date:
    """Last valid day of a period of `months` months starting on `start`."""
    if months < 1:
        raise ValueError("months must be at least 1")
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    if start.day <= last_day:
        return date(year, month, start.day) - timedelta(days=1)
    return date(year, month, last_day)


def days_lapsed(current_valid_to: date, payment_date: date) -> int:
    """Days without cover on the payment date: 0 while the card is still valid that day."""
    return max(0, (payment_date - current_valid_to).days)


def renewal_start(current_valid_to: date | None, payment_date: date) -> date:
    if current_valid_to is None:
        return payment_date + timedelta(days=WAITING_DAYS)
    if current_valid_to >= payment_date:
        return current_valid_to + timedelta(days=1)
    if days_lapsed(current_valid_to, payment_date) < LAPSE_LIMIT_DAYS:
        return payment_date
    return payment_date + timedelta(days=WAITING_DAYS)


def renewal_period(current_valid_to: date | None, payment_date: date, months: int) -> tuple[date, date]:
    """(valid_from, valid_to) of the card after a payment of `months` months on `payment_date`."""
    start = renewal_start(current_valid_to, payment_date)
    return start, period_end(start, months)
