"""Who declares (người kê khai, QĐ 1187 bước 1) and how they hear back.

The declarant is told the amount, pays, and receives the receipt and the results (steps 3 and
5): the head, a member or a relative declaring for the household. A declaration that names no
declarant is declared by its head (portal clients written before the field keep working).

Every check here names the field and never the value: the values are personal data.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from domain.names import MAX_NAME_LENGTH, InvalidName, clean_name
from domain.relations import HEAD, Relation, clean_relation_text, parse_relation


class Channel(StrEnum):
    """Where the application came from (seed 000 reports the share done online per channel)."""

    PORTAL = "portal"
    """Cổng Dịch vụ công BHXH."""
    VSSID = "vssid"
    """The VssID app."""
    NATIONAL_PORTAL = "national_portal"
    """Cổng Dịch vụ công quốc gia (redirected to the BHXH portal)."""
    OFFICE = "office"
    """Declared at a BHXH office or collection agent, keyed in by staff."""


MOBILE = re.compile(r"0(?:3[2-9]|5[25689]|7[06-9]|8[1-9]|9\d)\d{7}")
"""Vietnamese mobile numbers since the 2018 renumbering: 10 digits, 03x/05x/07x/08x/09x."""

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}")
MAX_EMAIL_LENGTH = 254


def clean_phone(value: object) -> str:
    """0912345678 from '0912 345 678', '+84 912.345.678', '84912345678' and the like."""
    if not isinstance(value, str):
        raise PydanticCustomError("phone_invalid", "must be a Vietnamese mobile number")
    digits = re.sub(r"[\s.\-()]", "", value)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not digits.isascii() or MOBILE.fullmatch(digits) is None:
        raise PydanticCustomError(
            "phone_invalid", "must be a Vietnamese mobile number (10 digits, 03x, 05x, 07x, 08x or 09x)"
        )
    return digits


def clean_email(value: object) -> str:
    """Trimmed, the domain in lower case; one @, a dotted domain, nothing invisible."""
    if not isinstance(value, str):
        raise PydanticCustomError("email_invalid", "must be an email address")
    text = value.strip()
    if (
        len(text) > MAX_EMAIL_LENGTH
        or any(unicodedata.category(c)[0] in "CZ" and c != " " for c in text)
        or EMAIL.fullmatch(text) is None
    ):
        raise PydanticCustomError("email_invalid", "must be an email address (name@domain)")
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def clean_personal_id(value: object) -> str:
    """Typed with spaces like the head's; the declarant's own sex and birth date are not asked,
    so only the form is checked."""
    text = "".join(value.split()) if isinstance(value, str) else ""
    if len(text) != 12 or not text.isascii() or not text.isdigit():
        raise PydanticCustomError("personal_id_invalid", "must be exactly 12 digits")
    return text


def _declarant_name(value: str) -> str:
    try:
        return clean_name(value)
    except InvalidName as exc:
        raise PydanticCustomError(exc.kind, str(exc)) from None


def _relationship(value: str) -> str:
    text = clean_relation_text(value)
    if not text:
        raise PydanticCustomError("relationship_empty", "the relationship to the household head is required")
    return text


class Declarant(BaseModel):
    """The person who declares, pays and is told (none of it ever logged or searchable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    full_name: Annotated[str, AfterValidator(_declarant_name)] = Field(
        description=f"full name, as for members; at most {MAX_NAME_LENGTH} characters"
    )
    personal_id: Annotated[str, BeforeValidator(clean_personal_id)] = Field(
        description="số định danh cá nhân, 12 digits"
    )
    relationship: Annotated[str, AfterValidator(_relationship)] = Field(
        description="relationship to the household head as people write it ('bản thân', 'con dâu', "
        "'mẹ vợ'…; see the members' relationship)"
    )
    phone: Annotated[str | None, BeforeValidator(lambda v: None if v is None else clean_phone(v))] = Field(
        default=None, description="Vietnamese mobile number; notices go to it by SMS"
    )
    email: Annotated[str | None, BeforeValidator(lambda v: None if v is None else clean_email(v))] = Field(
        default=None, description="notices go to it by email"
    )

    @property
    def relation(self) -> Relation:
        return parse_relation(self.relationship)


def head_as_declarant(full_name: str, personal_id: str) -> Declarant:
    """A declaration without a declarant is the head's own: no phone, no email (the portal only)."""
    return Declarant(full_name=full_name, personal_id=personal_id, relationship=HEAD)
