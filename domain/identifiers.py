"""Personal identification numbers and BHYT card numbers (DESIGN §2, Identifiers).

Error messages never repeat the value they reject: they end up in HTTP answers, logs and the
Temporal UI, where a personal number must not appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from domain.models import Gender

_PERSONAL_ID = re.compile(r"[0-9]{12}")
_BHXH_NUMBER = re.compile(r"[0-9]{10}")
_CARD15 = re.compile(r"(?P<object>[A-Z]{2})(?P<benefit>[1-5])(?P<province>[0-9]{2})(?P<bhxh>[0-9]{10})")

FIRST_CENTURY = 1900
LAST_CENTURY = 2300
"""The century/gender digit covers births 1900–2399 (TT 59/2021/TT-BCA, Luật Căn cước 2023)."""


def century_gender_digit(gender: Gender, year_of_birth: int) -> int:
    """The digit a personal number must carry for this gender and year of birth."""
    if not FIRST_CENTURY <= year_of_birth < LAST_CENTURY + 100:
        raise ValueError("year of birth outside the range the personal number can encode")
    century_index = (year_of_birth - FIRST_CENTURY) // 100
    return 2 * century_index + (0 if gender is Gender.MALE else 1)


def personal_id_error(value: str, *, gender: Gender, date_of_birth: date) -> str | None:
    """Why `value` is not this person's số định danh cá nhân, or None when it can be."""
    if not _PERSONAL_ID.fullmatch(value):
        return "must be exactly 12 digits"
    try:
        expected = century_gender_digit(gender, date_of_birth.year)
    except ValueError:
        return "date of birth is outside the years a personal number can encode"
    if int(value[3]) != expected:
        return "century/gender digit does not agree with the declared gender and date of birth"
    if value[4:6] != f"{date_of_birth.year % 100:02d}":
        return "year-of-birth digits do not agree with the declared date of birth"
    return None


@dataclass(frozen=True)
class CardRef:
    """A parsed card number; the three forms may all name one participant (Công văn 1804/BHXH-QLT)."""

    form: Literal["card15", "bhxh10", "personal12"]
    bhxh_number: str | None
    personal_id: str | None
    object_code: str | None
    benefit_level: int | None
    province_code: str | None

    @property
    def key(self) -> str:
        """What identifies the card across forms: the 15-char and the 10-digit forms share it."""
        if self.bhxh_number is not None:
            return self.bhxh_number
        assert self.personal_id is not None
        return self.personal_id

    @property
    def canonical(self) -> str:
        """The card number as written after normalising (upper case, no surrounding spaces)."""
        if self.form == "card15":
            return f"{self.object_code}{self.benefit_level}{self.province_code}{self.bhxh_number}"
        return self.key


def parse_card_number(value: str) -> CardRef:
    """Read any of the three card-number forms; ValueError (without the value) otherwise."""
    text = value.strip().upper()
    if len(text) == 15:
        match = _CARD15.fullmatch(text)
        if match is None:
            raise ValueError(
                "15-character card number must be 2 letters, a benefit digit 1-5, "
                "a 2-digit province code and a 10-digit BHXH number"
            )
        if match["province"] == "00":
            raise ValueError("province code of the card number must be 01-99")
        return CardRef(
            form="card15",
            bhxh_number=match["bhxh"],
            personal_id=None,
            object_code=match["object"],
            benefit_level=int(match["benefit"]),
            province_code=match["province"],
        )
    if len(text) == 10:
        if not _BHXH_NUMBER.fullmatch(text):
            raise ValueError("10-character card number (BHXH number) must be all digits")
        return CardRef("bhxh10", text, None, None, None, None)
    if len(text) == 12:
        if not _PERSONAL_ID.fullmatch(text):
            raise ValueError("12-character card number (personal number) must be all digits")
        return CardRef("personal12", None, text, None, None, None)
    raise ValueError(
        "card number must have 15 characters, or be a 10-digit BHXH number or a 12-digit personal number"
    )
