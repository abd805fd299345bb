from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.fees import (
    BASE_SALARY_TABLE,
    LADDER_PERCENT,
    BaseSalary,
    QuoteInput,
    base_salary_on,
    compute_quote,
    ladder_percent,
    monthly_amount,
    rate_percent,
)
from domain.models import RENEWAL_MONTHS
from domain.validity import renewal_period
from domain.words import amount_in_words

DESIGN_TABLE = {
    1_490_000: (67_050, 46_935, 40_230, 33_525, 26_820),
    1_800_000: (81_000, 56_700, 48_600, 40_500, 32_400),
    2_340_000: (105_300, 73_710, 63_180, 52_650, 42_120),
    2_530_000: (113_850, 79_695, 68_310, 56_925, 45_540),
}


@pytest.mark.parametrize(("base", "monthly"), DESIGN_TABLE.items())
def test_design_table(base: int, monthly: tuple[int, ...]) -> None:
    assert tuple(monthly_amount(base, p) for p in range(1, 6)) == monthly
    assert monthly_amount(base, 6) == monthly_amount(base, 17) == monthly[4]


def test_procedure_2022_yearly_amounts() -> None:
    """QĐ 1187 worked example (base 1,490,000): the 12-month amounts per position."""
    yearly = [monthly_amount(1_490_000, p) * 12 for p in range(1, 6)]
    assert yearly == [804_600, 563_220, 482_760, 402_300, 321_840]


def test_table_is_data_in_force_order() -> None:
    assert [(r.effective_from, r.amount) for r in BASE_SALARY_TABLE] == [
        (date(2019, 7, 1), 1_490_000),
        (date(2023, 7, 1), 1_800_000),
        (date(2024, 7, 1), 2_340_000),
        (date(2026, 7, 1), 2_530_000),
    ]


@pytest.mark.parametrize("index", range(len(BASE_SALARY_TABLE)))
def test_base_salary_boundaries(index: int) -> None:
    row = BASE_SALARY_TABLE[index]
    assert base_salary_on(row.effective_from) == row.amount
    if index + 1 < len(BASE_SALARY_TABLE):
        assert base_salary_on(BASE_SALARY_TABLE[index + 1].effective_from - timedelta(days=1)) == row.amount
    if index > 0:
        assert base_salary_on(row.effective_from - timedelta(days=1)) == BASE_SALARY_TABLE[index - 1].amount
    else:
        with pytest.raises(ValueError):
            base_salary_on(row.effective_from - timedelta(days=1))


def test_base_salary_far_future_uses_last_row() -> None:
    assert base_salary_on(date(2040, 1, 1)) == 2_530_000


def test_base_salary_custom_unsorted_table() -> None:
    table = [BaseSalary(date(2030, 1, 1), 3_000_000), BaseSalary(date(2020, 1, 1), 1_000_000)]
    assert base_salary_on(date(2029, 12, 31), table) == 1_000_000
    assert base_salary_on(date(2030, 1, 1), table) == 3_000_000


def test_ladder() -> None:
    assert LADDER_PERCENT == (100, 70, 60, 50, 40)
    assert [ladder_percent(p) for p in range(1, 8)] == [100, 70, 60, 50, 40, 40, 40]
    for bad in (0, -1):
        with pytest.raises(ValueError):
            ladder_percent(bad)
    with pytest.raises(ValueError):
        monthly_amount(1_490_000, 0)


def test_rate_percent_exact() -> None:
    assert [rate_percent(p) for p in range(1, 7)] == [
        Decimal("4.5"),
        Decimal("3.15"),
        Decimal("2.7"),
        Decimal("2.25"),
        Decimal("1.8"),
        Decimal("1.8"),
    ]


def test_rounding_half_up_when_not_exact() -> None:
    # 1,000,010 × 4.5% = 45,000.45 → 45,000; second: 45,000 × 70% = 31,500
    assert monthly_amount(1_000_010, 1) == 45_000
    # 1,000,100 × 4.5% = 45,004.5 → 45,005 (half up); × 70% = 31,503.5 → 31,504
    assert monthly_amount(1_000_100, 1) == 45_005
    assert monthly_amount(1_000_100, 2) == 31_504
    # later positions are a share of the first person's (rounded) amount, not of the base
    assert monthly_amount(1_000_100, 4) == 22_503  # 45,005 × 50% = 22,502.5 → 22,503


@given(st.integers(0, 50_000_000), st.integers(1, 30))
def test_rate_never_rises_with_position(base: int, position: int) -> None:
    assert rate_percent(position + 1) <= rate_percent(position)
    assert monthly_amount(base, position + 1) <= monthly_amount(base, position)
    assert isinstance(monthly_amount(base, position), int)


def member(n: int, months: int = 12, valid_to: date | None = date(2025, 12, 31)) -> QuoteInput:
    return QuoteInput(
        card_number=f"GD401{n:010d}",
        bhxh_number=f"{n:010d}",
        member_name=f"Thành viên {n}",
        months=months,
        current_valid_to=valid_to,
        office_code="01001",
        province_code="01",
    )


def test_quote_worked_example() -> None:
    quote = compute_quote(
        [member(1), member(2, months=6), member(3, months=3, valid_to=None)],
        paid_positions_before=1,
        quote_date=date(2025, 11, 20),
    )
    assert quote.base_salary == 2_340_000
    assert [line.position for line in quote.lines] == [2, 3, 4]
    assert [line.rate_percent for line in quote.lines] == ["3.15", "2.7", "2.25"]
    assert [line.monthly_amount for line in quote.lines] == [73_710, 63_180, 52_650]
    assert [line.amount for line in quote.lines] == [884_520, 379_080, 157_950]
    assert quote.total == 1_421_550
    assert quote.total_in_words == "Một triệu bốn trăm hai mươi mốt nghìn năm trăm năm mươi đồng"
    assert (quote.lines[0].valid_from, quote.lines[0].valid_to) == (date(2026, 1, 1), date(2026, 12, 31))
    assert (quote.lines[2].valid_from, quote.lines[2].valid_to) == (date(2025, 12, 20), date(2026, 3, 19))
    assert quote.paid_positions_before == 1
    assert quote.lines[0].card_number == "GD4010000000001" and quote.lines[0].office_code == "01001"


def test_quote_base_salary_on_quote_date_covers_whole_period() -> None:
    """Quoted the day before a rise: the old base applies even though the period runs past it."""
    quote = compute_quote([member(1)], paid_positions_before=0, quote_date=date(2026, 6, 30))
    assert quote.base_salary == quote.lines[0].base_salary == 2_340_000
    assert quote.lines[0].amount == 105_300 * 12
    later = compute_quote([member(1)], paid_positions_before=0, quote_date=date(2026, 7, 1))
    assert later.lines[0].amount == 113_850 * 12


def test_quote_rate_for_fifth_and_later() -> None:
    quote = compute_quote([member(1), member(2)], paid_positions_before=4, quote_date=date(2024, 7, 1))
    assert [line.rate_percent for line in quote.lines] == ["1.8", "1.8"]
    assert [line.monthly_amount for line in quote.lines] == [42_120, 42_120]


def test_quote_first_person_rate_string() -> None:
    quote = compute_quote([member(1)], paid_positions_before=0, quote_date=date(2023, 7, 1))
    assert quote.lines[0].rate_percent == "4.5"
    assert quote.lines[0].monthly_amount == 81_000


def test_quote_rejections() -> None:
    with pytest.raises(ValueError):
        compute_quote([], paid_positions_before=0, quote_date=date(2025, 1, 1))
    with pytest.raises(ValueError):
        compute_quote([member(1)], paid_positions_before=-1, quote_date=date(2025, 1, 1))
    with pytest.raises(ValueError):
        compute_quote([member(1, months=7)], paid_positions_before=0, quote_date=date(2025, 1, 1))
    with pytest.raises(ValueError):
        compute_quote([member(1)], paid_positions_before=0, quote_date=date(2019, 6, 30))


quote_members = st.lists(
    st.builds(
        member,
        st.integers(0, 10**9),
        st.sampled_from(RENEWAL_MONTHS),
        st.one_of(st.none(), st.dates(date(2018, 1, 1), date(2030, 1, 1))),
    ),
    min_size=1,
    max_size=12,
)


@given(quote_members, st.integers(0, 10), st.dates(date(2019, 7, 1), date(2035, 12, 31)))
def test_quote_properties(members: list[QuoteInput], paid_before: int, quote_date: date) -> None:
    quote = compute_quote(members, paid_positions_before=paid_before, quote_date=quote_date)
    assert len(quote.lines) == len(members)
    assert [line.position for line in quote.lines] == list(
        range(paid_before + 1, paid_before + 1 + len(members))
    )
    assert quote.total == sum(line.amount for line in quote.lines)
    assert quote.total_in_words == amount_in_words(quote.total)
    base = base_salary_on(quote_date)
    previous_monthly = None
    for line, source in zip(quote.lines, members, strict=True):
        assert type(line.amount) is int and type(line.monthly_amount) is int
        assert line.base_salary == base
        assert line.amount == line.monthly_amount * line.months
        assert line.monthly_amount == monthly_amount(base, line.position)
        assert Decimal(line.rate_percent) == rate_percent(line.position)
        assert (line.valid_from, line.valid_to) == renewal_period(
            source.current_valid_to, quote_date, source.months
        )
        assert line.card_number == source.card_number and line.bhxh_number == source.bhxh_number
        if previous_monthly is not None:
            assert line.monthly_amount <= previous_monthly
        previous_monthly = line.monthly_amount
