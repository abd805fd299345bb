"""Initial schema: participants and cards, household contributions, applications and card
reservations, bank payments, allocations, revenue entries, validity history, receipts with their
gap-free counters, and the notification outbox (see adapters/db/orm.py for why each table exists).

Revision ID: 0001
Revises:
Create Date: 2026-11-24 21:58:43.440630
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("household_code", sa.String(length=64), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column(
            "declaration",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "quote",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("txn_ref", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_applications")),
        sa.UniqueConstraint("txn_ref", name=op.f("uq_applications_txn_ref")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_household_code"), ["household_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_status"), ["status"], unique=False)

    op.create_table(
        "bank_payments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bank_tran_no", sa.String(length=64), nullable=False),
        sa.Column("transaction_no", sa.String(length=64), nullable=False),
        sa.Column("txn_ref", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("bank_code", sa.String(length=32), nullable=False),
        sa.Column("pay_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_code", sa.String(length=8), nullable=False),
        sa.Column("transaction_status", sa.String(length=8), nullable=False),
        sa.Column("is_paid", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("duplicate_count", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("allocated_application_id", sa.String(length=64), nullable=True),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_payments")),
        sa.UniqueConstraint("bank_tran_no", name=op.f("uq_bank_payments_bank_tran_no")),
    )
    with op.batch_alter_table("bank_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_payments_application_id"), ["application_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_payments_transaction_no"), ["transaction_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_payments_txn_ref"), ["txn_ref"], unique=False)

    op.create_table(
        "card_reservations",
        sa.Column("bhxh_number", sa.String(length=10), nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bhxh_number", name=op.f("pk_card_reservations")),
    )
    with op.batch_alter_table("card_reservations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_card_reservations_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "household_contributions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bhxh_number", sa.String(length=10), nullable=False),
        sa.Column("household_code", sa.String(length=64), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("application_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_contributions")),
    )
    with op.batch_alter_table("household_contributions", schema=None) as batch_op:
        batch_op.create_index("ix_household_contributions_bhxh_number", ["bhxh_number"], unique=False)
        batch_op.create_index(
            "ix_household_contributions_household_year", ["household_code", "fiscal_year"], unique=False
        )
        batch_op.create_index(
            "uq_household_contributions_application",
            ["application_id", "bhxh_number"],
            unique=True,
            sqlite_where=sa.text("application_id IS NOT NULL"),
            postgresql_where=sa.text("application_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_household_contributions_reference",
            ["bhxh_number", "household_code", "fiscal_year", "paid_on"],
            unique=True,
            sqlite_where=sa.text("application_id IS NULL"),
            postgresql_where=sa.text("application_id IS NULL"),
        )

    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint(
            "application_id", "kind", "recipient", name=op.f("uq_notification_outbox_application_id")
        ),
        sa.UniqueConstraint("notice_id", name=op.f("uq_notification_outbox_notice_id")),
    )
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_outbox_status"), ["status"], unique=False)

    op.create_table(
        "participants",
        sa.Column("bhxh_number", sa.String(length=10), nullable=False),
        sa.Column("card_number", sa.String(length=15), nullable=False),
        sa.Column("personal_id", sa.String(length=12), nullable=True),
        sa.Column("full_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("gender", sa.String(length=6), nullable=False),
        sa.Column("group_code", sa.String(length=2), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("office_code", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bhxh_number", name=op.f("pk_participants")),
        sa.UniqueConstraint("card_number", name=op.f("uq_participants_card_number")),
        sa.UniqueConstraint("personal_id", name=op.f("uq_participants_personal_id")),
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participants_office_code"), ["office_code"], unique=False)

    op.create_table(
        "receipt_counters",
        sa.Column("series", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series", "year", name=op.f("pk_receipt_counters")),
    )
    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("bhxh_number", sa.String(length=10), nullable=False),
        sa.Column("card_number", sa.String(length=15), nullable=False),
        sa.Column("office_code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("old_valid_to", sa.Date(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bhxh_number"],
            ["participants.bhxh_number"],
            name=op.f("fk_allocations_bhxh_number_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["bank_payments.id"], name=op.f("fk_allocations_payment_id_bank_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
        sa.UniqueConstraint("application_id", "bhxh_number", name=op.f("uq_allocations_application_id")),
    )
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocations_bhxh_number"), ["bhxh_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_allocations_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("payer_name", sa.String(length=100), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("total_in_words", sa.Text(), nullable=False),
        sa.Column("txn_ref", sa.String(length=64), nullable=False),
        sa.Column("bank_tran_no", sa.String(length=64), nullable=False),
        sa.Column("verification_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["bank_payments.id"], name=op.f("fk_receipts_payment_id_bank_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("application_id", name=op.f("uq_receipts_application_id")),
        sa.UniqueConstraint("series", "year", "number", name=op.f("uq_receipts_series")),
        sa.UniqueConstraint("verification_code", name=op.f("uq_receipts_verification_code")),
    )
    op.create_table(
        "revenue_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("office_code", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("card_count", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["bank_payments.id"], name=op.f("fk_revenue_entries_payment_id_bank_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revenue_entries")),
        sa.UniqueConstraint(
            "application_id", "office_code", "period", name=op.f("uq_revenue_entries_application_id")
        ),
    )
    with op.batch_alter_table("revenue_entries", schema=None) as batch_op:
        batch_op.create_index("ix_revenue_entries_office_period", ["office_code", "period"], unique=False)
        batch_op.create_index(batch_op.f("ix_revenue_entries_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "validity_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bhxh_number", sa.String(length=10), nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("old_valid_from", sa.Date(), nullable=True),
        sa.Column("old_valid_to", sa.Date(), nullable=True),
        sa.Column("new_valid_from", sa.Date(), nullable=False),
        sa.Column("new_valid_to", sa.Date(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bhxh_number"],
            ["participants.bhxh_number"],
            name=op.f("fk_validity_history_bhxh_number_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["bank_payments.id"], name=op.f("fk_validity_history_payment_id_bank_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validity_history")),
        sa.UniqueConstraint("application_id", "bhxh_number", name=op.f("uq_validity_history_application_id")),
    )
    with op.batch_alter_table("validity_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_validity_history_bhxh_number"), ["bhxh_number"], unique=False)

    op.create_table(
        "receipt_lines",
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("card_number", sa.String(length=15), nullable=False),
        sa.Column("full_name", sa.String(length=100), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["receipts.id"],
            name=op.f("fk_receipt_lines_receipt_id_receipts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("receipt_id", "line_no", name=op.f("pk_receipt_lines")),
    )


def downgrade() -> None:
    op.drop_table("receipt_lines")
    with op.batch_alter_table("validity_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_validity_history_bhxh_number"))

    op.drop_table("validity_history")
    with op.batch_alter_table("revenue_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revenue_entries_payment_id"))
        batch_op.drop_index("ix_revenue_entries_office_period")

    op.drop_table("revenue_entries")
    op.drop_table("receipts")
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocations_payment_id"))
        batch_op.drop_index(batch_op.f("ix_allocations_bhxh_number"))

    op.drop_table("allocations")
    op.drop_table("receipt_counters")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participants_office_code"))

    op.drop_table("participants")
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_outbox_status"))

    op.drop_table("notification_outbox")
    with op.batch_alter_table("household_contributions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_household_contributions_reference",
            sqlite_where=sa.text("application_id IS NULL"),
            postgresql_where=sa.text("application_id IS NULL"),
        )
        batch_op.drop_index(
            "uq_household_contributions_application",
            sqlite_where=sa.text("application_id IS NOT NULL"),
            postgresql_where=sa.text("application_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_household_contributions_household_year")
        batch_op.drop_index("ix_household_contributions_bhxh_number")

    op.drop_table("household_contributions")
    with op.batch_alter_table("card_reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_reservations_application_id"))

    op.drop_table("card_reservations")
    with op.batch_alter_table("bank_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_payments_txn_ref"))
        batch_op.drop_index(batch_op.f("ix_bank_payments_transaction_no"))
        batch_op.drop_index(batch_op.f("ix_bank_payments_application_id"))

    op.drop_table("bank_payments")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_status"))
        batch_op.drop_index(batch_op.f("ix_applications_household_code"))

    op.drop_table("applications")
