"""Receipts: a long random public lookup code, and the refund mark.

`public_code` backs the public lookup `GET /receipts/{code}` (issue 15): receipts issued before
this revision get one drawn here. `refunded_at` makes a refunded payment's receipt say so.

Revision ID: 0005_receipt
Revises: 0001
Create Date: 2026-11-25 22:30:00
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_receipt"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True))

    receipts = sa.table("receipts", sa.column("id", sa.Integer), sa.column("public_code", sa.String))
    connection = op.get_bind()
    for (receipt_id,) in connection.execute(sa.select(receipts.c.id).where(receipts.c.public_code.is_(None))):
        code = base64.b32encode(secrets.token_bytes(20)).decode()
        connection.execute(receipts.update().where(receipts.c.id == receipt_id).values(public_code=code))

    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.alter_column("public_code", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_receipts_public_code"), ["public_code"])


def downgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_receipts_public_code"), type_="unique")
        batch_op.drop_column("refunded_at")
        batch_op.drop_column("public_code")
