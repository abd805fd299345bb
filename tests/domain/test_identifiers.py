from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identifiers import CardRef, century_gender_digit, parse_card_number, personal_id_error
from domain.models import Gender
from tests.support.domain_strategies import birth_dates, genders, personal_id_for

MALE, FEMALE = Gender.MALE, Gender.FEMALE


@pytest.mark.parametrize(
    ("gender", "year", "digit"),
    [
        (MALE, 1900, 0),
        (FEMALE, 1999, 1),
        (MALE, 2000, 2),
        (FEMALE, 2024, 3),
        (MALE, 2100, 4),
        (FEMALE, 2199, 5),
        (MALE, 2200, 6),
        (FEMALE, 2250, 7),
        (MALE, 2300, 8),
        (FEMALE, 2399, 9),
    ],
)
def test_century_gender_digit(gender: Gender, year: int, digit: int) -> None:
    assert century_gender_digit(gender, year) == digit


@pytest.mark.parametrize("year", [1899, 2400])
def test_century_gender_digit_outside_encodable_years(year: int) -> None:
    with pytest.raises(ValueError):
        century_gender_digit(MALE, year)


def test_design_example_personal_id_is_valid() -> None:
    assert personal_id_error("001080012345", gender=MALE, date_of_birth=date(1980, 5, 12)) is None


def test_female_born_2003() -> None:
    assert personal_id_error("079303000123", gender=FEMALE, date_of_birth=date(2003, 1, 31)) is None


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("00108001234", "12 digits"),  # 11 digits
        ("0010800123456", "12 digits"),  # 13 digits
        ("00108001234A", "12 digits"),
        ("001 80012345", "12 digits"),
        (" 001080012345", "12 digits"),
        ("００１０８００１２３４５", "12 digits"),  # full-width digits are not ASCII digits
        ("001180012345", "century/gender"),  # female digit for a man
        ("001280012345", "century/gender"),  # 2000s digit for a 1980 birth
        ("001081012345", "year-of-birth"),
    ],
)
def test_personal_id_rejections(value: str, fragment: str) -> None:
    error = personal_id_error(value, gender=MALE, date_of_birth=date(1980, 5, 12))
    assert error is not None and fragment in error
    assert value.strip() not in error


def test_personal_id_error_for_unencodable_birth_year() -> None:
    error = personal_id_error("001099012345", gender=MALE, date_of_birth=date(1899, 12, 31))
    assert error is not None


@given(genders, birth_dates, st.integers(0, 999_999))
def test_generated_personal_ids_agree(gender: Gender, dob: date, serial: int) -> None:
    value = personal_id_for(gender, dob, serial=f"{serial:06d}")
    assert personal_id_error(value, gender=gender, date_of_birth=dob) is None
    other = FEMALE if gender is MALE else MALE
    assert personal_id_error(value, gender=other, date_of_birth=dob) is not None


@given(genders, birth_dates)
def test_error_never_echoes_value(gender: Gender, dob: date) -> None:
    value = personal_id_for(FEMALE if gender is MALE else MALE, dob)
    error = personal_id_error(value, gender=gender, date_of_birth=dob)
    assert error is not None
    assert value not in error and value[4:6] + value[6:] not in error


def test_parse_card15() -> None:
    ref = parse_card_number("GD4010123456789")
    assert ref == CardRef(
        form="card15",
        bhxh_number="0123456789",
        personal_id=None,
        object_code="GD",
        benefit_level=4,
        province_code="01",
    )
    assert ref.key == "0123456789"
    assert ref.canonical == "GD4010123456789"


def test_parse_card15_lowercase_and_spaces() -> None:
    ref = parse_card_number("  hs2790123456789\t")
    assert (ref.object_code, ref.benefit_level, ref.province_code, ref.bhxh_number) == (
        "HS",
        2,
        "79",
        "0123456789",
    )
    assert ref.canonical == "HS2790123456789"


def test_parse_bhxh10() -> None:
    ref = parse_card_number(" 0123456789 ")
    assert ref.form == "bhxh10"
    assert ref.bhxh_number == ref.key == "0123456789"
    assert ref.personal_id is None and ref.object_code is None


def test_parse_personal12_any_century_digit() -> None:
    for digit in range(10):
        ref = parse_card_number(f"001{digit}80012345")
        assert ref.form == "personal12"
        assert ref.personal_id == ref.key == f"001{digit}80012345"
        assert ref.bhxh_number is None


def test_same_card_in_two_forms_has_same_key() -> None:
    assert parse_card_number("GD4010123456789").key == parse_card_number("0123456789").key


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "GD401012345678",  # 14
        "GD40101234567890",  # 16
        "GD6010123456789",  # benefit 6
        "GD0010123456789",  # benefit 0
        "GD4000123456789",  # province 00
        "G14010123456789",  # digit in object code
        "GD40101234S6789",  # letter inside the BHXH number
        "ĐD4010123456789",  # non-ASCII letter
        "012345678A",
        "01234567890",  # 11 digits
        "00108001234X",
        "0123 456789",
    ],
)
def test_parse_card_number_rejections(value: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_card_number(value)
    message = str(excinfo.value)
    assert message
    if value.strip():
        assert value.strip() not in message
