"""One application in progress per household: the household_claims table; and the card history:
the card numbers in validity_history when a renewal issues another card (issue 11).

Revision ID: 0003_people
Revises: 0002_money (chained after main's latest migration)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_people"
down_revision: str | None = "0002_money"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "household_claims",
        sa.Column("household_code", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("household_code", name=op.f("pk_household_claims")),
    )
    with op.batch_alter_table("household_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_household_claims_application_id"), ["application_id"], unique=False
        )
    with op.batch_alter_table("validity_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("old_card_number", sa.String(length=15), nullable=True))
        batch_op.add_column(sa.Column("new_card_number", sa.String(length=15), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("validity_history", schema=None) as batch_op:
        batch_op.drop_column("new_card_number")
        batch_op.drop_column("old_card_number")
    with op.batch_alter_table("household_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_claims_application_id"))
    op.drop_table("household_claims")
