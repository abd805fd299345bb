"""The BHXH database schema as SQLAlchemy 2 typed models.

The models are the single source of the schema's shape; the Alembic migrations in
`migrations/versions` are written by hand from them, and a test compares the two so they cannot
drift. Tables hold plain columns (no ORM relationships): the repository reads and writes rows
explicitly, which keeps every statement of the allocation transaction visible and ordered.

Money is integer đồng (BigInteger). Timestamps are stored in UTC and always come back timezone
aware (SQLite has no time zones, so `UTCDateTime` restores them).
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the database stores instants, give a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ParticipantRow(Base):
    """One BHYT participant and their current card; the three card-number forms are all keys."""

    __tablename__ = "participants"

    bhxh_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    card_number: Mapped[str] = mapped_column(String(15), unique=True)
    personal_id: Mapped[str | None] = mapped_column(String(12), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(6))
    group_code: Mapped[str] = mapped_column(String(2))
    province_code: Mapped[str] = mapped_column(String(2))
    office_code: Mapped[str] = mapped_column(String(32), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HouseholdContributionRow(Base):
    """A household-form payment by one member in one fiscal year: the basis of the reduction order.

    No foreign key to participants: a real extract may list the payments of household members
    whose card records live in another office's extract, and they still count for the position.
    """

    __tablename__ = "household_contributions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bhxh_number: Mapped[str] = mapped_column(String(10))
    household_code: Mapped[str] = mapped_column(String(64))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    months: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    application_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_household_contributions_household_year", "household_code", "fiscal_year"),
        Index("ix_household_contributions_bhxh_number", "bhxh_number"),
        # one contribution per card per application (the allocation's idempotency key) ...
        Index(
            "uq_household_contributions_application",
            "application_id",
            "bhxh_number",
            unique=True,
            sqlite_where=text("application_id IS NOT NULL"),
            postgresql_where=text("application_id IS NOT NULL"),
        ),
        # ... and, for rows loaded from a reference extract, its natural key (idempotent loading)
        Index(
            "uq_household_contributions_reference",
            "bhxh_number",
            "household_code",
            "fiscal_year",
            "paid_on",
            unique=True,
            sqlite_where=text("application_id IS NULL"),
            postgresql_where=text("application_id IS NULL"),
        ),
    )


class ApplicationRow(Base):
    __tablename__ = "applications"

    application_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    household_code: Mapped[str | None] = mapped_column(String(64), index=True)
    province_code: Mapped[str | None] = mapped_column(String(2))
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    declaration: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    quote: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    txn_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    allocated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(20), default="portal", server_default="portal")
    """Where the declaration came from: portal, vssid, national_portal or office (issue 22)."""

    __table_args__ = (
        # the figures of a period (adapters/db/stats.py) read a range of declaration dates
        Index("ix_applications_created_at", "created_at"),
    )


class CancelRequestRow(Base):
    """A declarant's cancel, on record before the run hears it (issue 12): step 3's order is
    opened inside the workflow task that verified the application, where a signal cannot reach
    the run, so the order step reads this row and opens nothing for a cancelled application."""

    __tablename__ = "cancel_requests"

    application_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CardReservationRow(Base):
    """A card held by an application in progress: the primary key makes holding it exclusive."""

    __tablename__ = "card_reservations"

    bhxh_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(64), index=True)
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HouseholdClaimRow(Base):
    """The household's one application in progress: the primary key makes it exclusive, so two
    declarations of one household can never both be quoted from position 1 (issue 11)."""

    __tablename__ = "household_claims"

    household_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(64), index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BankPaymentRow(Base):
    """Every bank callback we accepted, kept raw for audit; allocation links the one it used."""

    __tablename__ = "bank_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payment_key: Mapped[str] = mapped_column(String(96), unique=True)
    """The bank's transaction identity (domain.payments.transaction_key)."""
    bank_tran_no: Mapped[str] = mapped_column(String(64), index=True)
    transaction_no: Mapped[str] = mapped_column(String(64), index=True)
    txn_ref: Mapped[str] = mapped_column(String(64), index=True)
    application_id: Mapped[str | None] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    bank_code: Mapped[str] = mapped_column(String(32))
    pay_date: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    """Indexed for the day's reconciliation (a range of pay dates: migration 0006_perf)."""
    response_code: Mapped[str] = mapped_column(String(8))
    transaction_status: Mapped[str] = mapped_column(String(8))
    is_paid: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(32))
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    allocated_application_id: Mapped[str | None] = mapped_column(String(64))
    allocated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refund_status: Mapped[str | None] = mapped_column(String(32))
    """None, `requested`, `in_process`, `refunded`, `rejected:<bank code>` (refund due: an operator
    decides), or `paid_back` (an operator returned it by other means): `domain.refunds`."""
    refund_request_id: Mapped[str | None] = mapped_column(String(40))
    refund_transaction_no: Mapped[str | None] = mapped_column(String(64))
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refund_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the bank was first asked for the refund on record (a long-pending refund is listed)."""
    refund_attempts: Mapped[int | None] = mapped_column(Integer)
    """Refund requests sent so far: each gets its own vnp_RequestId (`domain.refunds.request_id`)."""
    refund_checks: Mapped[int | None] = mapped_column(Integer)
    refund_next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the worker's refund follower asks the bank (querydr) again about a refund in process."""
    refund_decided_by: Mapped[str | None] = mapped_column(String(64))
    """The operator who decided on a rejected refund (retry, or paid back by other means)."""


class OperatorActionRow(Base):
    """Every operator decision, with the operator named by the token used (issue 20)."""

    __tablename__ = "operator_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    operator: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    transaction: Mapped[str | None] = mapped_column(String(96))
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(200))


class BankPaymentConflictRow(Base):
    """A callback reusing a recorded transaction identity with other content: kept for audit."""

    __tablename__ = "bank_payment_conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payment_key: Mapped[str] = mapped_column(String(96), index=True)
    txn_ref: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AllocationRow(Base):
    """The share of one payment that went to one card, with the validity it bought."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[int] = mapped_column(ForeignKey("bank_payments.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    bhxh_number: Mapped[str] = mapped_column(ForeignKey("participants.bhxh_number"), index=True)
    card_number: Mapped[str] = mapped_column(String(15))
    office_code: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    months: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    old_valid_to: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("application_id", "bhxh_number"),)


class RevenueEntryRow(Base):
    """Phát sinh thu: money recorded at the office that manages the cards, per accounting period."""

    __tablename__ = "revenue_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[int] = mapped_column(ForeignKey("bank_payments.id"), index=True)
    office_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7), doc="accounting month, YYYY-MM")
    card_count: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    recorded_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("application_id", "office_code", "period"),
        Index("ix_revenue_entries_office_period", "office_code", "period"),
    )


class ValidityHistoryRow(Base):
    __tablename__ = "validity_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bhxh_number: Mapped[str] = mapped_column(ForeignKey("participants.bhxh_number"), index=True)
    application_id: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[int] = mapped_column(ForeignKey("bank_payments.id"))
    old_valid_from: Mapped[date | None] = mapped_column(Date)
    old_valid_to: Mapped[date | None] = mapped_column(Date)
    new_valid_from: Mapped[date] = mapped_column(Date)
    new_valid_to: Mapped[date] = mapped_column(Date)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the card history: set when the renewal issued another card (a lapsed DN/HS card joining the
    # household form gets a GD card with the same BHXH number)
    old_card_number: Mapped[str | None] = mapped_column(String(15))
    new_card_number: Mapped[str | None] = mapped_column(String(15))

    __table_args__ = (UniqueConstraint("application_id", "bhxh_number"),)


class ReceiptCounterRow(Base):
    """The last receipt number issued per series and year; its row lock makes numbering gap-free."""

    __tablename__ = "receipt_counters"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


def new_public_code() -> str:
    """160 random bits in base32 (32 characters, A–Z and 2–7): not guessable, and easy to read
    off paper (no 0/O or 1/I to confuse)."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


class ReceiptRow(Base):
    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(64), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("bank_payments.id"))
    series: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    payer_name: Mapped[str] = mapped_column(String(100))
    total: Mapped[int] = mapped_column(BigInteger)
    total_in_words: Mapped[str] = mapped_column(Text)
    txn_ref: Mapped[str] = mapped_column(String(64))
    bank_tran_no: Mapped[str] = mapped_column(String(64))
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)
    public_code: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_code)
    """The long random code of the public lookup (`GET /receipts/{code}`), drawn when the receipt
    is issued; unlike `verification_code` it cannot be derived from anything else."""
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set when the payment was refunded: the receipt then says so (ĐÃ HOÀN TIỀN)."""

    __table_args__ = (UniqueConstraint("series", "year", "number"),)


class ReceiptLineRow(Base):
    __tablename__ = "receipt_lines"

    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id", ondelete="CASCADE"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_number: Mapped[str] = mapped_column(String(15))
    full_name: Mapped[str] = mapped_column(String(100))
    months: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)


class NotificationRow(Base):
    """The notification outbox: one row per (application, kind, recipient), delivered at least once."""

    __tablename__ = "notification_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(String(32), unique=True)
    application_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    """When the sweeper gave the notice its deliveries (one per channel of the declarant)."""

    __table_args__ = (UniqueConstraint("application_id", "kind", "recipient"),)


class ReminderRow(Base):
    """A reminder sent before a household's cards lapse: the unique key makes it one per
    household and expiry date, whatever retries or overlapping schedule runs do."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    household_code: Mapped[str] = mapped_column(String(64))
    expires_on: Mapped[date] = mapped_column(Date)
    application_id: Mapped[str] = mapped_column(String(64))
    """The household's most recent application, whose declarant was reminded."""
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("household_code", "expires_on"),)


class NoticeDeliveryRow(Base):
    """One notice on one channel (webhook, email, sms), with its own state and backoff: a channel
    that is down never holds up another, and one notice failing never holds up newer ones."""

    __tablename__ = "notice_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(254))
    """The email address or mobile number (personal data: never logged); none for the webhook."""
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("notice_id", "channel"),
        Index("ix_notice_deliveries_due", "status", "next_attempt_at"),
    )
