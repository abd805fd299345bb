"""Builders and hypothesis strategies for valid declarations, shared by the unit tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import strategies as st

from domain.models import RENEWAL_MONTHS, Gender
from domain.relations import HEAD, RELATION_FORMS

TODAY = date(2025, 9, 15)


def personal_id_for(
    gender: Gender, date_of_birth: date, province: str = "001", serial: str = "012345"
) -> str:
    """A structurally valid số định danh cá nhân for this gender and date of birth."""
    century_index = (date_of_birth.year - 1900) // 100
    digit = 2 * century_index + (0 if gender is Gender.MALE else 1)
    return f"{province}{digit}{date_of_birth.year % 100:02d}{serial}"


def head_dict(**overrides: Any) -> dict[str, Any]:
    head = {
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1980-05-12",
        "gender": "male",
        "personal_id": "001080012345",
    }
    head.update(overrides)
    return head


def member_dict(**overrides: Any) -> dict[str, Any]:
    member = {
        "card_number": "GD4010123456789",
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1980-05-12",
        "gender": "male",
        "relationship": "chủ hộ",
        "months": 12,
    }
    member.update(overrides)
    return member


def declaration_dict(*members: dict[str, Any], head: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"head": head or head_dict(), "members": list(members) or [member_dict()]}


genders = st.sampled_from(list(Gender))
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
names = st.sampled_from(["Nguyễn Văn An", "Trần Thị Bình", "Lê Minh", "Phạm  Thu   Hà", "đỗ quang vinh"])
provinces3 = st.integers(min_value=1, max_value=96).map(lambda n: f"{n:03d}")
serials = st.integers(min_value=0, max_value=999_999).map(lambda n: f"{n:06d}")


@st.composite
def heads(draw: st.DrawFn) -> dict[str, Any]:
    gender = draw(genders)
    dob = draw(birth_dates)
    return {
        "full_name": draw(names),
        "date_of_birth": dob.isoformat(),
        "gender": gender.value,
        "personal_id": personal_id_for(gender, dob, draw(provinces3), draw(serials)),
    }


@st.composite
def members_list(draw: st.DrawFn, max_size: int = 8) -> list[dict[str, Any]]:
    """Members with distinct cards, each card in one of the three forms."""
    count = draw(st.integers(min_value=1, max_value=max_size))
    bhxh_numbers = draw(
        st.lists(
            st.integers(0, 9_999_999_999).map(lambda n: f"{n:010d}"),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    members = []
    for index, bhxh in enumerate(bhxh_numbers):
        gender = draw(genders)
        dob = draw(birth_dates)
        form = draw(st.sampled_from(["card15", "bhxh10", "personal12"]))
        if form == "card15":
            object_code = draw(st.sampled_from(["GD", "gd", "DN", "HS", "HT", "TE"]))
            card = f"{object_code}{draw(st.integers(1, 5))}{draw(st.integers(1, 99)):02d}{bhxh}"
        elif form == "bhxh10":
            card = f" {bhxh} "
        else:
            # the serial makes the personal number unique among members
            card = personal_id_for(gender, dob, "079", f"{index:06d}")
        members.append(
            {
                "card_number": card,
                "full_name": draw(names),
                "date_of_birth": dob.isoformat(),
                "gender": gender.value,
                "relationship": draw(
                    st.sampled_from([form for code, forms in RELATION_FORMS.items() if code != HEAD for form in forms])
                ),
                "months": draw(st.sampled_from(RENEWAL_MONTHS)),
            }
        )
    return members


@st.composite
def declarations(draw: st.DrawFn) -> dict[str, Any]:
    return {"head": draw(heads()), "members": draw(members_list())}
