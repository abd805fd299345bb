"""Step 2b look-ups: a participant by any card form, and the household's paid positions."""

from __future__ import annotations

from tests.adapters.db.db_builders import participant


async def _load(db, data):
    async with db.unit_of_work() as uow:
        summary = await uow.repo.load_reference_data(data)
        await uow.commit()
    return summary


async def test_all_three_card_forms_resolve_to_one_participant(db):
    p = participant(1)
    await _load(db, {"participants": [p, participant(2)]})
    async with db.unit_of_work(read_only=True) as uow:
        found = [
            await uow.repo.find_participant(form)
            for form in (
                p["card_number"],
                p["bhxh_number"],
                p["personal_id"],
                f" {p['card_number'].lower()} ",
            )
        ]
        assert await uow.repo.find_participant("GD4019999999999") is None
        assert await uow.repo.find_participant("not-a-card") is None
    assert all(f is not None and f.bhxh_number == p["bhxh_number"] for f in found)
    assert found[0].card_number == p["card_number"]
    assert found[0].group == "GD" and found[0].office_code == p["office_code"]
    assert str(found[0].valid_to) == p["valid_to"]


async def test_paid_members_count_counts_distinct_other_members_of_the_year(db):
    members = [participant(i) for i in range(1, 5)]
    contributions = [
        {
            "bhxh_number": members[0]["bhxh_number"],
            "household_code": "HN-BD-0001",
            "fiscal_year": 2026,
            "paid_on": "2026-01-10",
            "months": 3,
            "position": 1,
            "amount": 315_900,
        },
        # the same member paying again later in the year is still one member
        {
            "bhxh_number": members[0]["bhxh_number"],
            "household_code": "HN-BD-0001",
            "fiscal_year": 2026,
            "paid_on": "2026-04-10",
            "months": 3,
            "position": 1,
            "amount": 315_900,
        },
        {
            "bhxh_number": members[1]["bhxh_number"],
            "household_code": "HN-BD-0001",
            "fiscal_year": 2026,
            "paid_on": "2026-01-10",
            "months": 12,
            "position": 2,
            "amount": 884_520,
        },
        {
            "bhxh_number": members[2]["bhxh_number"],
            "household_code": "HN-BD-0001",
            "fiscal_year": 2025,
            "paid_on": "2025-01-10",
            "months": 12,
            "position": 1,
            "amount": 1_263_600,
        },
        {
            "bhxh_number": members[3]["bhxh_number"],
            "household_code": "HN-CG-0002",
            "fiscal_year": 2026,
            "paid_on": "2026-01-10",
            "months": 12,
            "position": 1,
            "amount": 1_263_600,
        },
    ]
    await _load(db, {"participants": members, "household_contributions": contributions})
    async with db.unit_of_work(read_only=True) as uow:
        repo = uow.repo
        assert await repo.paid_members_count("HN-BD-0001", 2026, []) == 2
        assert await repo.paid_members_count("HN-BD-0001", 2026, [members[0]["bhxh_number"]]) == 1
        assert await repo.paid_members_count("HN-BD-0001", 2025, []) == 1
        assert await repo.paid_members_count("HN-BD-0001", 2027, []) == 0
        assert await repo.paid_members_count("NO-SUCH", 2026, []) == 0
