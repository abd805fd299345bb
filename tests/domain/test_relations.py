"""Relations as written (issue 11, point 1)."""

from __future__ import annotations

import pytest

from domain.relations import HEAD, OTHER, RELATION_FORMS, parse_relation
from domain.validation import DeclarationInvalid, parse_declaration
from tests.support.domain_strategies import TODAY, declaration_dict, member_dict


def test_the_documented_list_has_at_least_thirty_forms() -> None:
    forms = [form for forms in RELATION_FORMS.values() for form in forms]
    assert len(forms) >= 30 and len(set(forms)) == len(forms)
    for code, written in RELATION_FORMS.items():
        assert code in written
        for form in written:
            assert parse_relation(form).code == code


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("con dâu", "con dâu"),
        ("Con Rể", "con rể"),
        ("  ông   nội ", "ông nội"),
        ("BÀ NGOẠI", "bà ngoại"),
        ("cháu nội", "cháu nội"),
        ("bố", "cha"),
        ("ba", "cha"),
        ("tía", "cha"),
        ("bà", "bà"),  # not "ba": the tone decides
        ("mẹ vợ", "mẹ vợ"),
        ("má", "mẹ"),
        ("u", "mẹ"),
        ("me\u0323 vơ\u0323", "mẹ vợ"),  # decomposed
        ("con dâu/rể", "con dâu/rể"),
        ("Chủ Hộ", HEAD),
    ],
)
def test_written_forms_are_normalised(written: str, code: str) -> None:
    relation = parse_relation(written)
    assert relation.code == code


def test_tone_placement_does_not_matter() -> None:
    assert parse_relation("cháu ngoaị").code == "cháu ngoại"  # tone on the other vowel


@pytest.mark.parametrize("written", ["hàng xóm", "bạn", "người ở nhờ", "x"])
def test_other_text_is_kept_as_khac(written: str) -> None:
    relation = parse_relation(written)
    assert relation.code == OTHER and relation.text == written


@pytest.mark.parametrize("written", ["con dâu", "bà ngoại", "hàng xóm", "mẹ vợ", "", "\x00\u202e"])
def test_a_relation_never_refuses_a_declaration(written: str) -> None:
    """Issue 11: "con dâu" got a 422 (the closed list had only "con dâu/rể")."""
    declaration = parse_declaration(declaration_dict(member_dict(relationship=written)), today=TODAY)
    assert "\x00" not in declaration.members[0].relationship


def test_only_one_member_can_be_the_head() -> None:
    data = declaration_dict(
        member_dict(relationship="chủ hộ"),
        member_dict(card_number="7901234567", relationship="CHỦ  HỘ", full_name="Lê Văn Bình"),
    )
    with pytest.raises(DeclarationInvalid) as excinfo:
        parse_declaration(data, today=TODAY)
    assert [(e.loc, e.type) for e in excinfo.value.errors] == [
        (("members", 1, "relationship"), "head_duplicate")
    ]
