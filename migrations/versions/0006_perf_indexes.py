"""Index bank payments by pay date: the day's reconciliation reads one day's range of them.

Without it the reconciliation of a day scans every payment ever recorded (issue 12: a day of
100,000 bank transactions must reconcile in seconds, whatever the history's size).

Revision ID: 0006_perf
Revises: 0003_people (main's head when this branch was last merged with it)
Create Date: 2026-11-25 22:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_perf"
down_revision: str | None = "0003_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_bank_payments_pay_date"), "bank_payments", ["pay_date"])


def downgrade() -> None:
    op.drop_index(op.f("ix_bank_payments_pay_date"), table_name="bank_payments")
