"""Reminders before household cards lapse, and the index the period figures read (issue 22).

`reminders` holds one row per household and expiry date (its unique key is what makes a reminder
idempotent under retries and overlapping schedule runs); the index on `applications.created_at`
lets the figures read one period (they are broken down by `applications.channel`, from 0009).

Revision ID: 0010_reminders
Revises: 0009_declarant
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_reminders"
down_revision: str | None = "0009_declarant"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("household_code", sa.String(length=64), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("household_code", "expires_on", name=op.f("uq_reminders_household_code")),
    )
    op.create_index("ix_applications_created_at", "applications", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_applications_created_at", table_name="applications")
    op.drop_table("reminders")
