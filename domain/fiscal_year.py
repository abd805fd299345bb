"""Which fiscal year a household-form payment counts in (Luật 51/2024 Điều 3 k1: the reduction
applies to members who take part in the household form «trong năm tài chính», the calendar year).

Decision for a quote and its payment on either side of 1 January (issue 11, point 8): a member
takes part when the money is received, so a payment counts in the fiscal year of its payment
date (Vietnam time) — the year the receipt is numbered in and the revenue is recorded in —
never in the year of the quote. The quote itself stays binding until its deadline (DESIGN §2):
the household pays the amounts and positions it was quoted, and those positions are recorded.

So a quote of 31/12/2026 (positions counted among the 2026 payments) paid on 1/1/2027 is booked
in 2027, and a member declared on 2/1/2027 is placed after it: the household's 2027 ladder
counts every member paid in 2027 once, and the 2026 ladder is not changed after the fact.
"""

from __future__ import annotations

from datetime import date


def fiscal_year_of(day: date) -> int:
    """The fiscal year of a Vietnam calendar date: a quote's (for counting) or a payment's (for booking)."""
    return day.year
