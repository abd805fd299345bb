"""The bundled reference data (data/demo.json) is internally consistent and holds the scenarios
that data/README.md promises; the demo and the end-to-end tests are only as good as this file.

The fee table is written out here from DESIGN §2 on purpose: this checks the data against the
specification, not against the code that computes fees.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "demo.json"
QUOTE_DATE = date(2026, 11, 24)

BASE_SALARY = [  # (in force from, VND) — DESIGN §2
    (date(2019, 7, 1), 1_490_000),
    (date(2023, 7, 1), 1_800_000),
    (date(2024, 7, 1), 2_340_000),
    (date(2026, 7, 1), 2_530_000),
]
POSITION_PERCENT = {1: 100, 2: 70, 3: 60, 4: 50}  # 5th and later: 40
CENTURY_DIGIT = {(1900, "male"): 0, (1900, "female"): 1, (2000, "male"): 2, (2000, "female"): 3,
                 (2100, "male"): 4, (2100, "female"): 5}  # fmt: skip
CARD_15 = re.compile(r"^(?P<group>[A-Z]{2})(?P<benefit>[1-5])(?P<province>\d{2})(?P<bhxh>\d{10})$")


def base_salary_on(day: date) -> int:
    return [salary for start, salary in BASE_SALARY if start <= day][-1]


def monthly(day: date, position: int) -> Fraction:
    return (
        Fraction(base_salary_on(day)) * Fraction(45, 1000) * Fraction(POSITION_PERCENT.get(position, 40), 100)
    )


@pytest.fixture(scope="module")
def data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def citizens(data: dict) -> dict[str, dict]:
    return {c["personal_id"]: c for c in data["citizens"]}


@pytest.fixture(scope="module")
def participants(data: dict) -> dict[str, dict]:
    return {p["bhxh_number"]: p for p in data["participants"]}


def residence_codes(citizen: dict) -> set[str]:
    return {r["code"] for r in (citizen["permanent_residence"], citizen["temporary_residence"]) if r}


def household(data: dict, citizens: dict, code: str) -> list[dict]:
    return [p for p in data["participants"] if code in residence_codes(citizens[p["personal_id"]])]


def test_top_level_shape(data: dict) -> None:
    assert set(data) == {"citizens", "participants", "household_contributions"}
    assert data["citizens"] and data["participants"] and data["household_contributions"]


def test_identifiers_are_unique(data: dict) -> None:
    for key, rows in (("personal_id", data["citizens"]), ("personal_id", data["participants"]),
                      ("bhxh_number", data["participants"]), ("card_number", data["participants"])):  # fmt: skip
        dupes = [v for v, n in Counter(r[key] for r in rows).items() if n > 1]
        assert not dupes, f"duplicate {key}: {dupes}"


def test_personal_ids_agree_with_gender_and_date_of_birth(data: dict) -> None:
    for person in data["citizens"] + data["participants"]:
        pid, born = person["personal_id"], date.fromisoformat(person["date_of_birth"])
        assert re.fullmatch(r"\d{12}", pid), pid
        century = born.year // 100 * 100
        assert int(pid[3]) == CENTURY_DIGIT[(century, person["gender"])], (pid, person["full_name"])
        assert pid[4:6] == f"{born.year % 100:02d}", (pid, person["full_name"])


def test_card_numbers_are_well_formed(data: dict) -> None:
    for p in data["participants"]:
        m = CARD_15.match(p["card_number"])
        assert m, p["card_number"]
        assert m["group"] == p["group"], p["card_number"]
        assert m["province"] == p["province_code"], p["card_number"]
        assert m["bhxh"] == p["bhxh_number"], p["card_number"]
        assert re.fullmatch(r"\d{10}", p["bhxh_number"])
        assert date.fromisoformat(p["valid_from"]) <= date.fromisoformat(p["valid_to"])


def test_every_participant_is_a_known_citizen_with_the_same_identity(citizens: dict, data: dict) -> None:
    for p in data["participants"]:
        c = citizens.get(p["personal_id"])
        assert c is not None, f"{p['full_name']} has no citizen record"
        assert (c["full_name"], c["date_of_birth"], c["gender"]) == (
            p["full_name"],
            p["date_of_birth"],
            p["gender"],
        )
        assert residence_codes(c), f"{c['full_name']} has no residence"


def test_contributions_reference_household_participants(
    data: dict, participants: dict, citizens: dict
) -> None:
    for c in data["household_contributions"]:
        p = participants.get(c["bhxh_number"])
        assert p is not None, f"contribution for unknown BHXH number {c['bhxh_number']}"
        assert p["group"] == "GD"
        assert c["household_code"] in residence_codes(citizens[p["personal_id"]]), c
        assert c["fiscal_year"] == date.fromisoformat(c["paid_on"]).year, c
        assert c["months"] in (3, 6, 12), c


def test_contribution_amounts_follow_the_fee_table(data: dict) -> None:
    for c in data["household_contributions"]:
        expected = monthly(date.fromisoformat(c["paid_on"]), c["position"]) * c["months"]
        assert expected.denominator == 1, c
        assert c["amount"] == expected, f"{c}: expected {expected}"


def test_positions_count_up_within_each_household_and_fiscal_year(data: dict) -> None:
    groups: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for c in data["household_contributions"]:
        groups[(c["household_code"], c["fiscal_year"])].append(c)
    for key, rows in groups.items():
        rows.sort(key=lambda c: c["paid_on"])
        assert [c["position"] for c in rows] == list(range(1, len(rows) + 1)), key


def test_the_known_amount_of_design_section_6() -> None:
    assert monthly(date(2026, 1, 10), 1) * 12 == 1_263_600


# -- the scenarios of data/README.md --------------------------------------------------------------


def test_a_four_members_one_already_paid_this_year(data: dict, citizens: dict) -> None:
    members = household(data, citizens, "HN-BD-0001")
    assert len(members) == 4
    assert {citizens[m["personal_id"]]["permanent_residence"]["code"] for m in members} == {"HN-BD-0001"}
    paid_2026 = {c["bhxh_number"] for c in data["household_contributions"]
                 if c["household_code"] == "HN-BD-0001" and c["fiscal_year"] == 2026}  # fmt: skip
    assert len(paid_2026) == 1
    others = [m for m in members if m["bhxh_number"] not in paid_2026]
    lapsed = sorted((QUOTE_DATE - date.fromisoformat(m["valid_to"])).days for m in others)
    assert lapsed[0] < 0, "one card still valid on the quote date"
    assert 0 < lapsed[1] < 90 and lapsed[1] == 40, "one lapsed 40 days"
    assert lapsed[2] >= 90, "one lapsed 90 days or more"


def test_b_different_permanent_same_temporary(data: dict, citizens: dict) -> None:
    members = [citizens[m["personal_id"]] for m in household(data, citizens, "HCM-Q3-0042")]
    assert len(members) >= 2
    assert len({c["permanent_residence"]["code"] for c in members}) > 1
    assert {c["temporary_residence"]["code"] for c in members} == {"HCM-Q3-0042"}


def test_c_no_common_residence(citizens: dict) -> None:
    long_, mai = citizens["048090002468"], citizens["031192007531"]
    assert not residence_codes(long_) & residence_codes(mai)


def test_d_member_of_another_group(participants: dict, citizens: dict) -> None:
    oanh = participants["0102345602"]
    assert oanh["group"] == "DN"
    assert date.fromisoformat(oanh["valid_to"]) > QUOTE_DATE
    assert "HN-HK-0015" in residence_codes(citizens[oanh["personal_id"]])


def test_e_deceased_member(citizens: dict) -> None:
    assert [c["full_name"] for c in citizens.values() if c["deceased"]] == ["Bùi Thị Tâm"]


def test_f_household_of_six_with_nobody_paid_this_year(data: dict, citizens: dict) -> None:
    members = household(data, citizens, "HN-DD-0200")
    assert len(members) == 6
    assert all(m["group"] == "GD" for m in members)
    assert not [c for c in data["household_contributions"]
                if c["household_code"] == "HN-DD-0200" and c["fiscal_year"] == QUOTE_DATE.year]  # fmt: skip
    total = sum(monthly(QUOTE_DATE, position) * 12 for position in range(1, 7))
    assert total == 4_918_320  # the figure data/README.md gives
