"""The declarant's channel of application, and notice delivery per channel (issue 22, issue 21 finding 5).

`applications.channel`: where the application came from, `portal` for the rows before it (the
declarant and the rest of the declaration stay in `applications.declaration`). `notice_deliveries`: one row per notice and
channel (webhook, email, sms) with its own state, attempts and next attempt, so the sweeper
picks what is due rather than the oldest pending notices. `notification_outbox.dispatched_at`:
when a notice was given its deliveries; notices already settled count as dispatched.

Revision ID: 0009_declarant
Revises: 0008_refunds
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_declarant"
down_revision: str | None = "0008_refunds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("channel", sa.String(20), nullable=False, server_default="portal"))
    with op.batch_alter_table("notification_outbox") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_notification_outbox_dispatched_at"), ["dispatched_at"])
    op.execute("UPDATE notification_outbox SET dispatched_at = created_at WHERE status <> 'pending'")
    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_deliveries")),
        sa.UniqueConstraint("notice_id", "channel", name=op.f("uq_notice_deliveries_notice_id")),
    )
    op.create_index("ix_notice_deliveries_due", "notice_deliveries", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_notice_deliveries_due", table_name="notice_deliveries")
    op.drop_table("notice_deliveries")
    with op.batch_alter_table("notification_outbox") as batch:
        batch.drop_index(batch.f("ix_notification_outbox_dispatched_at"))
        batch.drop_column("dispatched_at")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("channel")
