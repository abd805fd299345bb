"""Checks on a declaration that its schema cannot express (step 1, kê khai).

Every problem is reported at once, located like pydantic locates its own errors, so the
portal can mark each bad field in one round trip. Messages never echo the input: a rejected
declaration is full of personal data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from domain.identifiers import CardRef, parse_card_number, personal_id_error
from domain.models import MAX_MEMBERS, RENEWAL_MONTHS, Declaration, Head, Member

EARLIEST_BIRTH = date(1900, 1, 1)
"""Older dates are typing mistakes (and the personal number cannot encode them)."""

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class FieldError:
    loc: Loc
    msg: str
    type: str


def format_loc(loc: Loc) -> str:
    """head.personal_id, members[1].card_number: how a person reading the error names a field."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(declaration)"


class DeclarationInvalid(Exception):
    """A declaration that must not start an application; `errors` names every bad field."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        super().__init__(self._summary())

    def _summary(self) -> str:
        details = "; ".join(f"{format_loc(e.loc)}: {e.msg}" for e in self.errors)
        return f"{len(self.errors)} invalid field(s): {details}"

    def __str__(self) -> str:
        return self._summary()

    def as_dicts(self) -> list[dict[str, Any]]:
        """The errors in pydantic's shape (loc as a list), without any input, for a 422 body."""
        return [{**asdict(e), "loc": list(e.loc)} for e in self.errors]


def _date_of_birth_errors(loc: Loc, date_of_birth: date, today: date) -> list[FieldError]:
    if date_of_birth > today:
        return [FieldError(loc, "date of birth is in the future", "date_of_birth_in_future")]
    if date_of_birth < EARLIEST_BIRTH:
        return [FieldError(loc, "date of birth is before 1900", "date_of_birth_too_early")]
    return []


def _personal_id_problem(value: str, person: Head | Member, *, date_ok: bool) -> str | None:
    """Only the digits are judged against a date of birth that is itself wrong: one error per cause."""
    if date_ok:
        return personal_id_error(value, gender=person.gender, date_of_birth=person.date_of_birth)
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return "must be exactly 12 digits"
    return None


def _head_errors(head: Head, today: date) -> list[FieldError]:
    errors = _date_of_birth_errors(("head", "date_of_birth"), head.date_of_birth, today)
    problem = _personal_id_problem(head.personal_id, head, date_ok=not errors)
    if problem is not None:
        errors.append(FieldError(("head", "personal_id"), problem, "personal_id_invalid"))
    return errors


def _member_errors(index: int, member: Member, today: date) -> tuple[list[FieldError], CardRef | None]:
    errors = _date_of_birth_errors(("members", index, "date_of_birth"), member.date_of_birth, today)
    date_ok = not errors
    card_loc: Loc = ("members", index, "card_number")
    card: CardRef | None
    try:
        card = parse_card_number(member.card_number)
    except ValueError as exc:
        card = None
        errors.append(FieldError(card_loc, str(exc), "card_number_invalid"))
    if card is not None and card.personal_id is not None:
        problem = _personal_id_problem(card.personal_id, member, date_ok=date_ok)
        if problem is not None:
            errors.append(FieldError(card_loc, f"personal number: {problem}", "card_number_mismatch"))
    if member.months not in RENEWAL_MONTHS:
        errors.append(FieldError(("members", index, "months"), "months must be 3, 6 or 12", "months_invalid"))
    return errors, card


def duplicate_person_error(first: int, second: int) -> FieldError:
    """One person on two lines (any two card forms): named by both members, never by the number."""
    return FieldError(
        ("members", second, "card_number"),
        f"members[{first}] and members[{second}] are the same person: list each person once",
        "person_duplicate",
    )


def _collect(head: Head | None, members: Mapping[int, Member], today: date) -> list[FieldError]:
    """Domain errors of the parts that parsed; `members` maps declared index to member."""
    errors = _head_errors(head, today) if head is not None else []
    first_index_of: dict[str, int] = {}
    head_indexes: list[int] = []
    for index, member in sorted(members.items()):
        member_errors, card = _member_errors(index, member, today)
        errors.extend(member_errors)
        if card is not None:
            if card.key in first_index_of:
                errors.append(duplicate_person_error(first_index_of[card.key], index))
            else:
                first_index_of[card.key] = index
        if member.relation.is_head:
            head_indexes.append(index)
    for index in head_indexes[1:]:
        errors.append(
            FieldError(
                ("members", index, "relationship"),
                f"only one member can be the household head (already members[{head_indexes[0]}])",
                "head_duplicate",
            )
        )
    return errors


def validate_declaration(declaration: Declaration, *, today: date) -> None:
    """Raise DeclarationInvalid naming every problem; `today` is a parameter (no clock here)."""
    errors = _collect(declaration.head, dict(enumerate(declaration.members)), today)
    if len(declaration.members) > MAX_MEMBERS:
        errors.append(
            FieldError(("members",), f"at most {MAX_MEMBERS} members per declaration", "too_many_members")
        )
    if errors:
        raise DeclarationInvalid(errors)


def field_errors(error: ValidationError) -> list[FieldError]:
    """pydantic's errors as FieldErrors, without the input values."""
    return _from_pydantic(error)


def _from_pydantic(error: ValidationError) -> list[FieldError]:
    return [
        FieldError(tuple(e["loc"]), e["msg"], e["type"])
        for e in error.errors(include_url=False, include_context=False, include_input=False)
    ]


def _parse_parts(data: Mapping[str, Any]) -> tuple[Head | None, dict[int, Member]]:
    """The head and members that are valid on their own, so domain checks can still run on them."""
    head: Head | None = None
    raw_head = data.get("head")
    if isinstance(raw_head, Mapping):
        try:
            head = Head.model_validate(raw_head)
        except ValidationError:
            pass
    members: dict[int, Member] = {}
    raw_members = data.get("members")
    if isinstance(raw_members, list):
        for index, raw in enumerate(raw_members):
            if isinstance(raw, Mapping):
                try:
                    members[index] = Member.model_validate(raw)
                except ValidationError:
                    pass
    return head, members


def parse_declaration(data: Mapping[str, Any], *, today: date) -> Declaration:
    """Schema and domain validation in one step, reported as one DeclarationInvalid."""
    try:
        declaration = Declaration.model_validate(data)
    except ValidationError as exc:
        errors = _from_pydantic(exc)
        if isinstance(data, Mapping):
            head, members = _parse_parts(data)
            errors.extend(_collect(head, members, today))
        raise DeclarationInvalid(errors) from None
    validate_declaration(declaration, today=today)
    return declaration
