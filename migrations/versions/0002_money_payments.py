"""Money (issue 10): bank payments keyed on the bank's transaction identity, refunds, conflicts.

- `bank_payments.payment_key` (unique) is the bank's identity of a transaction: vnp_TransactionNo,
  else bank code + bank number. `bank_tran_no` keeps the bank's own number and is no longer
  unique (two banks may use one number).
- refund columns: what the bank answered to our refund of a transaction not allocated.
- `bank_payment_conflicts`: callbacks that reuse a recorded transaction identity with other
  content, kept for audit and raised to an operator.

Revision ID: 0002_money
Revises: 0005_receipt (chained after main's receipt migration; the integrator may re-chain)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_money"
down_revision = "0005_receipt"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_key", sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column("refund_status", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("refund_request_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("refund_transaction_no", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE bank_payments SET payment_key = CASE WHEN transaction_no <> '' THEN transaction_no "
        "ELSE bank_code || ':' || bank_tran_no END"
    )
    with op.batch_alter_table("bank_payments", schema=None) as batch_op:
        batch_op.alter_column("payment_key", existing_type=sa.String(length=96), nullable=False)
        batch_op.drop_constraint("uq_bank_payments_bank_tran_no", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_bank_payments_payment_key"), ["payment_key"])
        batch_op.create_index(batch_op.f("ix_bank_payments_bank_tran_no"), ["bank_tran_no"], unique=False)

    op.create_table(
        "bank_payment_conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("payment_key", sa.String(length=96), nullable=False),
        sa.Column("txn_ref", sa.String(length=64), nullable=False),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_payment_conflicts")),
    )
    with op.batch_alter_table("bank_payment_conflicts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_payment_conflicts_payment_key"), ["payment_key"], unique=False
        )


def downgrade() -> None:
    op.drop_table("bank_payment_conflicts")
    with op.batch_alter_table("bank_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_payments_bank_tran_no"))
        batch_op.drop_constraint(batch_op.f("uq_bank_payments_payment_key"), type_="unique")
        batch_op.create_unique_constraint("uq_bank_payments_bank_tran_no", ["bank_tran_no"])
        batch_op.drop_column("refunded_at")
        batch_op.drop_column("refund_transaction_no")
        batch_op.drop_column("refund_request_id")
        batch_op.drop_column("refund_status")
        batch_op.drop_column("payment_key")
