"""Refunds as the bank processes them, and operators' decisions on record (issue 20).

bank_payments: when the refund was requested, how many requests (each its own vnp_RequestId),
when the worker's follower asks the bank again, who decided on a rejected refund.
operator_actions: every operator decision with the operator named by the token used.

Revision ID: 0008_refunds
Revises: 0007_cancel
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_refunds"
down_revision: str | None = "0007_cancel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bank_payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refund_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("refund_attempts", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("refund_checks", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("refund_next_check_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("refund_decided_by", sa.String(length=64), nullable=True))
    op.create_table(
        "operator_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("transaction", sa.String(length=96), nullable=True),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_actions")),
    )
    op.create_index(op.f("ix_operator_actions_application_id"), "operator_actions", ["application_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_operator_actions_application_id"), table_name="operator_actions")
    op.drop_table("operator_actions")
    with op.batch_alter_table("bank_payments", schema=None) as batch_op:
        batch_op.drop_column("refund_decided_by")
        batch_op.drop_column("refund_next_check_at")
        batch_op.drop_column("refund_checks")
        batch_op.drop_column("refund_attempts")
        batch_op.drop_column("refund_requested_at")
