"""Names as people have them (issue 11, point 3): what is refused at the field, what matches."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.eligibility import check_member
from domain.models import Citizen, Gender, IneligibilityReason, Member, Participant
from domain.names import same_name
from domain.validation import DeclarationInvalid, parse_declaration
from tests.support.domain_strategies import TODAY, declaration_dict, head_dict, member_dict

# --- refused at the field: a 422 naming it, never echoing it --------------------------------

BAD_NAMES = [
    ("NUL", "Nguyễn\x00 Văn An", "name_control_character"),
    ("C0 control", "Nguyễn\x07Văn An", "name_control_character"),
    ("C1 control (NEL, white space to Python)", "Nguyễn\x85Văn An", "name_control_character"),
    ("DEL", "Nguyễn Văn An\x7f", "name_control_character"),
    ("bidi override", "\u202eNguyễn Văn An", "name_bidi_control"),
    ("bidi isolate", "Nguyễn \u2067Văn\u2069 An", "name_bidi_control"),
    ("right-to-left mark", "Nguyễn Văn An\u200f", "name_bidi_control"),
    ("zero-width space inside", "Nguyễn\u200bVăn An", "name_invisible_character"),
    ("only zero-width characters", "\u200b\u200c\u200d\ufeff", "name_invisible_character"),
    ("an emoji", "\U0001f600", "name_invalid_character"),
    ("emoji in a name", "Nguyễn Văn An \U0001f600", "name_invalid_character"),
    ("no letter", "- . '", "name_no_letter"),
    ("symbols", "Nguyễn Văn An <script>", "name_invalid_character"),
    ("only digits", "1234", "name_no_letter"),
    ("101 characters", "A" * 101, "name_too_long"),
    ("only spaces", "   ", "name_empty"),
]


@pytest.mark.parametrize(("case", "name", "kind"), BAD_NAMES, ids=[c[0] for c in BAD_NAMES])
@pytest.mark.parametrize("where", ["head", "member"])
def test_bad_names_are_refused_naming_the_field(case: str, name: str, kind: str, where: str) -> None:
    if where == "head":
        data = declaration_dict(head=head_dict(full_name=name))
        loc: tuple[Any, ...] = ("head", "full_name")
    else:
        data = declaration_dict(member_dict(full_name=name))
        loc = ("members", 0, "full_name")
    with pytest.raises(DeclarationInvalid) as excinfo:
        parse_declaration(data, today=TODAY)
    errors = {e.loc: e for e in excinfo.value.errors}
    assert loc in errors, case
    assert errors[loc].type == kind
    assert name.strip() not in str(excinfo.value) or not name.strip()


def test_hundred_characters_after_folding_spaces_are_accepted() -> None:
    name = "A" * 50 + "   " + "B" * 49  # 102 typed, 100 once the spaces are folded
    declaration = parse_declaration(declaration_dict(member_dict(full_name=name)), today=TODAY)
    assert len(declaration.members[0].full_name) == 100


def test_names_are_stored_nfc_with_single_spaces() -> None:
    typed = "  Nguye\u0302\u0303n\u00a0 Thi\u0323   Thu\u0309y "
    declaration = parse_declaration(declaration_dict(member_dict(full_name=typed)), today=TODAY)
    assert declaration.members[0].full_name == "Nguyễn Thị Thủy"


def test_minority_and_foreign_names_are_accepted() -> None:
    for name in ("H'Hen Niê", "Ksor Y-Blô", "Nông Thị Lò", "Jean-Pierre O’Neil"):
        parse_declaration(declaration_dict(member_dict(full_name=name)), today=TODAY)


# --- matching -----------------------------------------------------------------------------

TONE_PLACEMENTS = [
    ("Hòa", "Hoà"),
    ("Khóa", "Khoá"),
    ("Thỏa", "Thoả"),
    ("Xõa", "Xoã"),
    ("Họa", "Hoạ"),
    ("Khỏe", "Khoẻ"),
    ("Hòe", "Hoè"),
    ("Thúy", "Thuý"),
    ("Thùy", "Thuỳ"),
    ("Thủy", "Thuỷ"),
    ("Lũy", "Luỹ"),
    ("Thụy", "Thuỵ"),
]


@pytest.mark.parametrize(("old", "new"), TONE_PLACEMENTS)
def test_old_and_new_tone_placement_match(old: str, new: str) -> None:
    assert same_name(f"Nguyễn Thị {old}", f"nguyễn  thị {new}")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Đặng Văn Đức", "\u00d0ặng Văn \u00d0ức"),  # Đ typed as the Icelandic eth
        ("đặng văn đức", "\u00f0ặng văn \u00f0ức"),
        ("Nguyễn Văn An", "Nguye\u0302\u0303n Va\u0306n An"),  # NFD
        ("Nguyễn Thị Thủy", "NGUYỄN THỊ THUỶ"),
        ("Lê  Văn\tAn", "Lê Văn An"),
    ],
)
def test_equal_spellings(a: str, b: str) -> None:
    assert same_name(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nguyễn Thị Thủy", "Nguyễn Thị Thụy"),  # another tone
        ("Nguyễn Thị Thủy", "Nguyễn Thị Thuy"),  # no tone
        ("Nguyễn Văn An", "Nguyen Van An"),  # diacritics matter
        ("Nguyễn Văn An", "Nguyễn Văn Ân"),  # circumflex is a letter, not a tone
        ("Đặng Văn Đức", "Dặng Văn Dức"),
        ("Hoà An", "Hoàn"),  # spacing between syllables is not inner spacing
        ("Ngô Thị Hòa", "Ngô Thị Hoa"),
    ],
)
def test_other_differences_stay_different(a: str, b: str) -> None:
    assert not same_name(a, b)


def _member(**overrides: Any) -> Member:
    data: dict[str, Any] = {
        "card_number": "gd 401 0123456789",
        "full_name": "Nguyễn Thị Thuỷ",
        "date_of_birth": date(1990, 2, 3),
        "gender": "female",
        "relationship": "con dâu",
        "months": 12,
    }
    data.update(overrides)
    return Member.model_validate(data)


RECORD = Participant(
    personal_id="001190012345",
    bhxh_number="0123456789",
    card_number="GD4010123456789",
    full_name="Nguyễn Thị Thủy",
    date_of_birth=date(1990, 2, 3),
    gender=Gender.FEMALE,
    group="GD",
    province_code="01",
    office_code="BHXH-HN-BD",
    valid_from=date(2025, 1, 1),
    valid_to=date(2025, 12, 31),
)
LIVING = Citizen(
    personal_id="001190012345",
    full_name="Nguyễn Thị Thủy",
    date_of_birth=date(1990, 2, 3),
    gender=Gender.FEMALE,
)


def test_thuy_with_the_new_tone_placement_is_eligible() -> None:
    """Issue 11: "Nguyễn Thị Thuỷ" declared, "Nguyễn Thị Thủy" on record, was ineligible."""
    check = check_member(_member(), RECORD, LIVING, held_by_other_application=False)
    assert check.eligible, check.message
    assert check.card_number == "GD4010123456789"


@pytest.mark.parametrize(
    ("overrides", "fields", "words"),
    [
        ({"full_name": "Nguyễn Thị Thụy"}, ["full_name"], "Họ tên"),
        ({"date_of_birth": date(1990, 2, 4)}, ["date_of_birth"], "Ngày sinh"),
        ({"gender": "male"}, ["gender"], "Giới tính"),
        ({"full_name": "Trần Thị Thủy", "gender": "male"}, ["full_name", "gender"], "Họ tên, giới tính"),
    ],
)
def test_mismatch_reason_names_the_field_not_the_value(
    overrides: dict[str, Any], fields: list[str], words: str
) -> None:
    check = check_member(_member(**overrides), RECORD, LIVING, held_by_other_application=False)
    assert not check.eligible and check.reason is IneligibilityReason.IDENTITY_MISMATCH
    assert check.mismatched_fields == fields
    assert check.message is not None and check.message.startswith(words)
    for value in ("Thụy", "Thủy", "Trần", "1990", "male"):
        assert value not in check.message
