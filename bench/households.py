"""Synthetic households for the benchmarks: a DESIGN §6 data file and one declaration per household.

Every household has `members` people (head, spouse, children) sharing one permanent residence
code, all on household (GD) cards that are still valid (`valid_to` about a month ahead), so a
declaration of all of them is quoted. Personal ids carry the century/gender digit and the
2-digit year of the date of birth (domain.identifiers); BHXH numbers, personal ids and card
numbers are unique across the file. Some households carry an old household-form payment from
an earlier fiscal year: it exercises the reduction-order query without moving any position.

    from bench.households import generate, declarations, check
    data = generate(260, today=date(2026, 11, 25))
    decls = declarations(data)          # the POST /api/v1/renewals bodies, in household order
    check(data, decls, today=...)       # parse_declaration on each, and the file's own consistency

`python -m bench.households N [FILE]` writes a file (stdout without FILE).
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from domain.application import vietnam_date
from domain.fees import base_salary_on, monthly_amount
from domain.identifiers import century_gender_digit, parse_card_number, personal_id_error
from domain.models import Citizen, Gender, Participant
from domain.validation import parse_declaration

# (card province code, personal-id place-of-birth code, residence prefix, office, city)
PROVINCES = [
    ("01", "001", "HN", "BHXH-HN-BD", "Hà Nội"),
    ("79", "079", "HCM", "BHXH-HCM-Q3", "TP. Hồ Chí Minh"),
    ("48", "048", "DN", "BHXH-DN-HC", "Đà Nẵng"),
    ("31", "031", "HP", "BHXH-HP-NQ", "Hải Phòng"),
]
FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
]
MALE = [
    "An",
    "Bảo",
    "Cường",
    "Dũng",
    "Đức",
    "Hải",
    "Hùng",
    "Khang",
    "Long",
    "Minh",
    "Nam",
    "Phúc",
    "Sơn",
    "Tài",
]
FEMALE = [
    "Anh",
    "Bình",
    "Chi",
    "Dung",
    "Hà",
    "Hoa",
    "Lan",
    "Mai",
    "Ngọc",
    "Oanh",
    "Quyên",
    "Tâm",
    "Uyên",
    "Xuân",
]
STREETS = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Võ Văn Tần"]

SERIAL_LIMIT = 1_000_000
"""Personal ids end in a 6-digit serial: at most this many people per file."""


def _one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _birth(rng: random.Random, first_year: int, last_year: int) -> date:
    start = date(first_year, 1, 1).toordinal()
    end = date(last_year, 12, 28).toordinal()
    return date.fromordinal(rng.randint(start, end))


def _person(serial: int, place: str, gender: Gender, born: date) -> str:
    """A personal id: place of birth (3) + century/gender (1) + year (2) + serial (6)."""
    return f"{place}{century_gender_digit(gender, born.year)}{born.year % 100:02d}{serial:06d}"


def generate(
    households: int,
    *,
    today: date | None = None,
    members: int = 3,
    seed: int = 2026,
    valid_days_ahead: int = 30,
    contribution_every: int = 5,
) -> dict[str, Any]:
    """A DESIGN §6 data file for `households` households of `members` people each.

    Cards are valid until `today + valid_days_ahead`; every `contribution_every`-th household
    (0: none) has the head's household-form payment of two periods ago, an earlier fiscal year."""
    if members < 1:
        raise ValueError("a household has at least one member")
    if households * members >= SERIAL_LIMIT:
        raise ValueError(f"at most {SERIAL_LIMIT - 1} people per file")
    today = today or vietnam_date(datetime.now(UTC))
    rng = random.Random(seed)
    valid_to = today + timedelta(days=valid_days_ahead)
    valid_from = _one_year_before(valid_to) + timedelta(days=1)
    citizens: list[dict[str, Any]] = []
    participants: list[dict[str, Any]] = []
    contributions: list[dict[str, Any]] = []
    serial = 0
    for h in range(households):
        card_province, place, prefix, office, city = PROVINCES[h % len(PROVINCES)]
        code = f"{prefix}-BENCH-{h:06d}"
        residence = {"code": code, "address": f"{h + 1} {rng.choice(STREETS)}, {city}"}
        family = rng.choice(FAMILY)
        head_born = _birth(rng, 1960, 1992)
        for m in range(members):
            if m == 0:
                gender, born, given = Gender.MALE, head_born, f"Văn {rng.choice(MALE)}"
            elif m == 1:
                gender, born = Gender.FEMALE, _birth(rng, head_born.year - 3, min(head_born.year + 5, 1995))
                given = f"{rng.choice(FAMILY)} Thị {rng.choice(FEMALE)}"
            else:
                gender = Gender.MALE if rng.random() < 0.5 else Gender.FEMALE
                born = _birth(rng, max(head_born.year + 20, 1990), min(head_born.year + 40, today.year - 1))
                given = f"{'Văn' if gender is Gender.MALE else 'Thị'} {rng.choice(MALE if gender is Gender.MALE else FEMALE)}"
            full_name = given if m == 1 else f"{family} {given}"
            serial += 1
            personal_id = _person(serial, place, gender, born)
            bhxh = f"{card_province}{serial:08d}"
            citizens.append(
                {
                    "personal_id": personal_id,
                    "full_name": full_name,
                    "date_of_birth": born.isoformat(),
                    "gender": gender.value,
                    "deceased": False,
                    "permanent_residence": residence,
                    "temporary_residence": None,
                }
            )
            participants.append(
                {
                    "personal_id": personal_id,
                    "bhxh_number": bhxh,
                    "card_number": f"GD4{card_province}{bhxh}",
                    "full_name": full_name,
                    "date_of_birth": born.isoformat(),
                    "gender": gender.value,
                    "group": "GD",
                    "province_code": card_province,
                    "office_code": office,
                    "valid_from": valid_from.isoformat(),
                    "valid_to": valid_to.isoformat(),
                }
            )
            if m == 0 and contribution_every and h % contribution_every == 0:
                paid_on = _one_year_before(valid_from)  # two periods ago: an earlier fiscal year
                contributions.append(
                    {
                        "bhxh_number": bhxh,
                        "household_code": code,
                        "fiscal_year": paid_on.year,
                        "paid_on": paid_on.isoformat(),
                        "months": 12,
                        "position": 1,
                        "amount": monthly_amount(base_salary_on(paid_on), 1) * 12,
                    }
                )
    return {"citizens": citizens, "participants": participants, "household_contributions": contributions}


RELATIONSHIPS = ["chủ hộ", "vợ"]


def _households(data: dict[str, Any]) -> Iterator[list[tuple[dict[str, Any], dict[str, Any]]]]:
    """(citizen, participant) pairs grouped by household, head first, in file order."""
    by_id = {p["personal_id"]: p for p in data["participants"]}
    group: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for citizen in data["citizens"]:
        if group and citizen["permanent_residence"]["code"] != group[0][0]["permanent_residence"]["code"]:
            yield group
            group = []
        group.append((citizen, by_id[citizen["personal_id"]]))
    if group:
        yield group


def declarations(data: dict[str, Any], months: int = 12) -> list[dict[str, Any]]:
    """One declaration per household: the head and every member with their 15-character card."""
    result = []
    for group in _households(data):
        head = group[0][0]
        result.append(
            {
                "head": {k: head[k] for k in ("full_name", "date_of_birth", "gender", "personal_id")},
                "members": [
                    {
                        "card_number": p["card_number"],
                        "full_name": p["full_name"],
                        "date_of_birth": p["date_of_birth"],
                        "gender": p["gender"],
                        "relationship": RELATIONSHIPS[i] if i < len(RELATIONSHIPS) else "con",
                        "months": months,
                    }
                    for i, (_citizen, p) in enumerate(group)
                ],
            }
        )
    return result


def check(data: dict[str, Any], decls: list[dict[str, Any]], *, today: date) -> None:
    """The project's own validation on every declaration, plus the file's consistency; ValueError if not."""
    problems: list[str] = []
    for key in ("personal_id", "bhxh_number", "card_number"):
        values = [p[key] for p in data["participants"]]
        if len(set(values)) != len(values):
            problems.append(f"duplicate {key} among participants")
    for c in data["citizens"]:
        Citizen.model_validate(c)
    for p in data["participants"]:
        participant = Participant.model_validate(p)
        card = parse_card_number(participant.card_number)
        if card.bhxh_number != participant.bhxh_number or card.province_code != participant.province_code:
            problems.append(f"card {participant.card_number}: BHXH number or province disagrees")
        error = personal_id_error(
            participant.personal_id or "", gender=participant.gender, date_of_birth=participant.date_of_birth
        )
        if error:
            problems.append(f"participant {participant.bhxh_number}: personal id {error}")
        if participant.valid_to is None or participant.valid_to < today:
            problems.append(f"participant {participant.bhxh_number}: card not valid on {today}")
    for i, declaration in enumerate(decls):
        try:
            parse_declaration(declaration, today=today)
        except Exception as exc:  # DeclarationInvalid, or anything the parser did not expect
            problems.append(f"declaration {i}: {exc}")
    if problems:
        raise ValueError(f"{len(problems)} problem(s) in the generated data: " + "; ".join(problems[:10]))


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 260
    today = vietnam_date(datetime.now(UTC))
    data = generate(count, today=today)
    check(data, declarations(data), today=today)
    text = json.dumps(data, ensure_ascii=False, indent=1)
    if len(argv) > 1:
        Path(argv[1]).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
