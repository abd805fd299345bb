from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings

from domain.models import MAX_MEMBERS, Declaration
from domain.validation import DeclarationInvalid, FieldError, parse_declaration, validate_declaration
from tests.support.domain_strategies import TODAY, declaration_dict, declarations, head_dict, member_dict


def errors_of(data: dict[str, Any], today: date = TODAY) -> list[FieldError]:
    with pytest.raises(DeclarationInvalid) as excinfo:
        parse_declaration(data, today=today)
    return excinfo.value.errors


def locs(errors: list[FieldError]) -> set[tuple[str | int, ...]]:
    return {e.loc for e in errors}


def test_design_example_is_accepted() -> None:
    declaration = parse_declaration(declaration_dict(), today=TODAY)
    assert declaration.head.personal_id == "001080012345"
    assert declaration.members[0].months == 12


@settings(max_examples=150)
@given(declarations())
def test_generated_valid_declarations_are_accepted(data: dict[str, Any]) -> None:
    declaration = parse_declaration(data, today=TODAY)
    assert len(declaration.members) == len(data["members"])


def second(**overrides: Any) -> dict[str, Any]:
    """A valid second member (a daughter born 2005 with a 10-digit card)."""
    member = member_dict(
        card_number="7901234567",
        full_name="Nguyễn Thị Mai",
        date_of_birth="2005-03-01",
        gender="female",
        relationship="con",
        months=6,
    )
    member.update(overrides)
    return member


CORRUPTIONS: list[tuple[str, dict[str, Any], tuple[str | int, ...], str]] = [
    (
        "head id too short",
        declaration_dict(head=head_dict(personal_id="00108001234")),
        ("head", "personal_id"),
        "personal_id_invalid",
    ),
    (
        "head id too long",
        declaration_dict(head=head_dict(personal_id="0010800123456")),
        ("head", "personal_id"),
        "personal_id_invalid",
    ),
    (
        "head id with a letter",
        declaration_dict(head=head_dict(personal_id="0010800I2345")),
        ("head", "personal_id"),
        "personal_id_invalid",
    ),
    (
        "head id female digit for a man",
        declaration_dict(head=head_dict(personal_id="001180012345")),
        ("head", "personal_id"),
        "personal_id_invalid",
    ),
    (
        "head id wrong year",
        declaration_dict(head=head_dict(personal_id="001079012345")),
        ("head", "personal_id"),
        "personal_id_invalid",
    ),
    (
        "card too short",
        declaration_dict(member_dict(), second(card_number="790123456")),
        ("members", 1, "card_number"),
        "card_number_invalid",
    ),
    (
        "card with a letter",
        declaration_dict(member_dict(), second(card_number="79012O4567")),
        ("members", 1, "card_number"),
        "card_number_invalid",
    ),
    (
        "card15 benefit 9",
        declaration_dict(member_dict(), second(card_number="GD9797901234567")),
        ("members", 1, "card_number"),
        "card_number_invalid",
    ),
    (
        "personal card, male digit for a woman",
        declaration_dict(member_dict(), second(card_number="079205000001")),
        ("members", 1, "card_number"),
        "card_number_mismatch",
    ),
    (
        "personal card, wrong year",
        declaration_dict(member_dict(), second(card_number="079306000001")),
        ("members", 1, "card_number"),
        "card_number_mismatch",
    ),
    (
        "months 7",
        declaration_dict(member_dict(), second(months=7)),
        ("members", 1, "months"),
        "months_invalid",
    ),
    (
        "months 0",
        declaration_dict(member_dict(), second(months=0)),
        ("members", 1, "months"),
        "months_invalid",
    ),
    (
        "member born tomorrow",
        declaration_dict(member_dict(), second(date_of_birth=(TODAY + timedelta(days=1)).isoformat())),
        ("members", 1, "date_of_birth"),
        "date_of_birth_in_future",
    ),
    (
        "member born 1899",
        declaration_dict(member_dict(), second(date_of_birth="1899-12-31")),
        ("members", 1, "date_of_birth"),
        "date_of_birth_too_early",
    ),
    (
        "head born tomorrow",
        declaration_dict(head=head_dict(date_of_birth=(TODAY + timedelta(days=1)).isoformat())),
        ("head", "date_of_birth"),
        "date_of_birth_in_future",
    ),
    (
        "duplicate card, 15 then 10",
        declaration_dict(member_dict(), second(card_number="0123456789")),
        ("members", 1, "card_number"),
        "person_duplicate",
    ),
    (
        "duplicate card, 10 then 15",
        declaration_dict(member_dict(card_number="0123456789"), second(card_number="dn1790123456789")),
        ("members", 1, "card_number"),
        "person_duplicate",
    ),
    (
        "duplicate personal card",
        declaration_dict(second(card_number="079305000001"), second(card_number=" 079305000001")),
        ("members", 1, "card_number"),
        "person_duplicate",
    ),
    (
        "two household heads",
        declaration_dict(member_dict(), second(relationship="Chủ hộ")),
        ("members", 1, "relationship"),
        "head_duplicate",
    ),
    (
        "blank member name",
        declaration_dict(member_dict(), second(full_name="   ")),
        ("members", 1, "full_name"),
        "name_empty",
    ),
    ("blank head name", declaration_dict(head=head_dict(full_name="")), ("head", "full_name"), "name_empty"),
    ("unknown gender", declaration_dict(member_dict(), second(gender="f")), ("members", 1, "gender"), "enum"),
    (
        "months not a number",
        declaration_dict(member_dict(), second(months="twelve")),
        ("members", 1, "months"),
        "int_parsing",
    ),
    (
        "missing card number",
        declaration_dict(member_dict(), {k: v for k, v in second().items() if k != "card_number"}),
        ("members", 1, "card_number"),
        "missing",
    ),
    ("no members", {"head": head_dict(), "members": []}, ("members",), "too_short"),
    (
        "extra field",
        declaration_dict(member_dict(), second(note="x")),
        ("members", 1, "note"),
        "extra_forbidden",
    ),
]


@pytest.mark.parametrize(("case", "data", "loc", "type_"), CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_each_corruption_is_rejected_at_its_field(
    case: str, data: dict[str, Any], loc: tuple[str | int, ...], type_: str
) -> None:
    errors = errors_of(data)
    assert [(e.loc, e.type) for e in errors] == [(loc, type_)], case


def test_valid_two_member_baseline_is_accepted() -> None:
    """The corruptions above start from this declaration: it must itself be valid."""
    declaration = parse_declaration(declaration_dict(member_dict(), second()), today=TODAY)
    assert [m.months for m in declaration.members] == [12, 6]


def test_all_problems_are_reported_at_once() -> None:
    data = declaration_dict(
        member_dict(months=7),
        second(card_number="GD4010123456789", date_of_birth="2030-01-01"),
        head=head_dict(personal_id="001180012345"),
    )
    assert locs(errors_of(data)) == {
        ("head", "personal_id"),
        ("members", 0, "months"),
        ("members", 1, "card_number"),
        ("members", 1, "date_of_birth"),
    }


def test_schema_and_domain_errors_are_merged() -> None:
    data = declaration_dict(
        member_dict(months=3), second(gender="nam", months=7), head=head_dict(personal_id="1")
    )
    errors = errors_of(data)
    assert locs(errors) == {("members", 1, "gender"), ("head", "personal_id")}
    # member 1 did not parse, so its months are not checked; the head did, so its id is
    types = {e.loc: e.type for e in errors}
    assert types[("head", "personal_id")] == "personal_id_invalid"


def test_errors_never_contain_input_values() -> None:
    secret_name = "Hoàng Bí Mật"
    data = declaration_dict(
        member_dict(full_name=secret_name, card_number="GD40101234567XY"),
        second(gender="nam"),
        head=head_dict(personal_id="001180099999", date_of_birth="not-a-date", full_name=secret_name),
    )
    with pytest.raises(DeclarationInvalid) as excinfo:
        parse_declaration(data, today=TODAY)
    text = str(excinfo.value) + repr(excinfo.value.as_dicts())
    for value in (secret_name, "GD40101234567XY", "001180099999", "not-a-date", "nam"):
        assert value not in text
    assert "head.personal_id" not in text  # the head's date did not parse: no domain check on it
    assert "members[0].card_number" in text
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


def test_str_names_each_field() -> None:
    data = declaration_dict(member_dict(months=5), head=head_dict(personal_id="x"))
    with pytest.raises(DeclarationInvalid) as excinfo:
        parse_declaration(data, today=TODAY)
    message = str(excinfo.value)
    assert "head.personal_id" in message and "members[0].months" in message
    assert message.startswith("2 invalid field(s)")


def test_as_dicts_shape() -> None:
    error = DeclarationInvalid([FieldError(("members", 2, "months"), "bad", "months_invalid")])
    assert error.as_dicts() == [{"loc": ["members", 2, "months"], "msg": "bad", "type": "months_invalid"}]


def test_validate_declaration_on_a_model() -> None:
    model = Declaration.model_validate(declaration_dict(member_dict(months=9)))
    with pytest.raises(DeclarationInvalid) as excinfo:
        validate_declaration(model, today=TODAY)
    assert [e.loc for e in excinfo.value.errors] == [("members", 0, "months")]
    validate_declaration(Declaration.model_validate(declaration_dict()), today=TODAY)


def test_birth_today_is_allowed_and_today_is_a_parameter() -> None:
    newborn = second(date_of_birth="2025-09-15", card_number="079325000001")
    assert parse_declaration(declaration_dict(member_dict(), newborn), today=date(2025, 9, 15))
    assert locs(errors_of(declaration_dict(member_dict(), newborn), today=date(2025, 9, 14))) == {
        ("members", 1, "date_of_birth")
    }


def test_too_many_members() -> None:
    members = [second(card_number=f"{n:010d}") for n in range(MAX_MEMBERS + 1)]
    errors = errors_of(declaration_dict(*members))
    assert locs(errors) == {("members",)}
    model = Declaration.model_construct(head=Declaration.model_validate(declaration_dict()).head, members=[])
    too_many = Declaration.model_validate(declaration_dict(*members[:MAX_MEMBERS]))
    crafted = model.model_copy(
        update={
            "members": too_many.members
            + [too_many.members[0].model_copy(update={"card_number": "9999999999"})]
        }
    )
    with pytest.raises(DeclarationInvalid) as excinfo:
        validate_declaration(crafted, today=TODAY)
    assert [e.type for e in excinfo.value.errors] == ["too_many_members"]


def test_max_members_is_accepted() -> None:
    members = [second(card_number=f"{n:010d}") for n in range(MAX_MEMBERS)]
    assert len(parse_declaration(declaration_dict(*members), today=TODAY).members) == MAX_MEMBERS
