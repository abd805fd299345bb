"""Reminders before household cards lapse, and the channel each application came from (issue 22).

`reminders` holds one row per household and expiry date (its unique key is what makes a reminder
idempotent under retries and overlapping schedule runs); `applications.channel` is what the
figures are broken down by, and the index on `applications.created_at` lets them read one period.

Revision ID: 0010_reminders
Revises: 0008_refunds
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_reminders"
down_revision: str | None = "0008_refunds"
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
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("channel", sa.String(20), nullable=False, server_default="portal"))
    op.create_index("ix_applications_created_at", "applications", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_applications_created_at", table_name="applications")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("channel")
    op.drop_table("reminders")
