"""The declarant's cancel on record (cancel_requests), read by step 3 before it opens the order.

Issue 12: steps 1–3 run as local activities in one workflow task, where a cancel signal cannot
reach the run; the API records the cancel here first, so a cancel during `verifying` still ends
the application before any bank order or notice (issue 10).

Revision ID: 0007_cancel
Revises: 0006_perf
Create Date: 2026-11-26 01:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_cancel"
down_revision: str | None = "0006_perf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cancel_requests",
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_cancel_requests")),
    )


def downgrade() -> None:
    op.drop_table("cancel_requests")
