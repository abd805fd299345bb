from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.models import RENEWAL_MONTHS
from domain.validity import days_lapsed, period_end, renewal_period, renewal_start


def test_continuation_starts_day_after_expiry() -> None:
    assert renewal_period(date(2025, 12, 31), date(2025, 11, 20), 12) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
    )


def test_paid_on_last_valid_day_still_continues() -> None:
    assert renewal_start(date(2025, 6, 30), date(2025, 6, 30)) == date(2025, 7, 1)


def test_lapsed_one_day_starts_on_payment_date() -> None:
    assert renewal_period(date(2025, 6, 30), date(2025, 7, 1), 3) == (date(2025, 7, 1), date(2025, 9, 30))


def test_lapse_89_vs_90_days() -> None:
    expiry = date(2025, 1, 31)
    assert days_lapsed(expiry, expiry + timedelta(days=89)) == 89
    assert renewal_start(expiry, expiry + timedelta(days=89)) == expiry + timedelta(days=89)
    assert days_lapsed(expiry, expiry + timedelta(days=90)) == 90
    assert renewal_start(expiry, expiry + timedelta(days=90)) == expiry + timedelta(days=120)


def test_never_participated_waits_30_days() -> None:
    assert renewal_period(None, date(2025, 3, 10), 6) == (date(2025, 4, 9), date(2025, 10, 8))


def test_days_lapsed_zero_while_valid() -> None:
    assert days_lapsed(date(2025, 5, 1), date(2025, 4, 1)) == 0
    assert days_lapsed(date(2025, 5, 1), date(2025, 5, 1)) == 0


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2025, 1, 1), 12, date(2025, 12, 31)),
        (date(2025, 1, 1), 3, date(2025, 3, 31)),
        (date(2025, 3, 15), 6, date(2025, 9, 14)),
        (date(2025, 12, 1), 3, date(2026, 2, 28)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),  # no 31 Feb: the month's last day, not 2 Mar
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2025, 11, 30), 3, date(2026, 2, 28)),  # 30 Feb does not exist either
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2025, 5, 31), 3, date(2025, 8, 30)),  # 31 Aug exists: ends the day before
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # 29 Feb start, no 29 Feb next year
        (date(2024, 2, 29), 3, date(2024, 5, 28)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2024, 3, 1), 12, date(2025, 2, 28)),
        (date(2023, 3, 1), 12, date(2024, 2, 29)),
    ],
)
def test_period_end(start: date, months: int, end: date) -> None:
    assert period_end(start, months) == end


def test_continuation_across_leap_day() -> None:
    # card ends 28 Feb 2024: continues from 29 Feb, 12 months to 28 Feb 2025
    assert renewal_period(date(2024, 2, 28), date(2024, 2, 1), 12) == (date(2024, 2, 29), date(2025, 2, 28))


def test_months_must_be_positive() -> None:
    with pytest.raises(ValueError):
        period_end(date(2025, 1, 1), 0)


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.sampled_from(RENEWAL_MONTHS))
def test_consecutive_periods_leave_no_gap(start: date, months: int) -> None:
    end = period_end(start, months)
    assert end >= start
    # the period ends within the month `months` on and covers between months×28 and months×31 days
    assert 28 * months <= (end - start).days + 1 <= 31 * months
    index = start.month - 1 + months
    assert (end.year, end.month) in {
        (start.year + index // 12, index % 12 + 1),
        (start.year + (index - 1) // 12, (index - 1) % 12 + 1),
    }


@given(
    st.one_of(st.none(), st.dates(date(2015, 1, 1), date(2035, 1, 1))),
    st.dates(date(2020, 1, 1), date(2030, 1, 1)),
    st.sampled_from(RENEWAL_MONTHS),
)
def test_renewal_start_rules(valid_to: date | None, paid: date, months: int) -> None:
    start, end = renewal_period(valid_to, paid, months)
    assert end == period_end(start, months)
    if valid_to is not None and valid_to >= paid:
        assert start == valid_to + timedelta(days=1)
    elif valid_to is not None and (paid - valid_to).days < 90:
        assert start == paid
    else:
        assert start == paid + timedelta(days=30)
