"""The data access the activities need, as intention-revealing async methods over one session.

A `Repository` never commits: its unit of work does (cosmicpython's pattern), so the caller
decides what one transaction is. The one exception to "the caller decides" is `allocate`, which
must be the only writer in its unit of work: it is built to be the whole of step 4's
transaction and to be replayed safely.

Portability: every statement here runs unchanged on SQLite and PostgreSQL. Upserts use each
dialect's INSERT ... ON CONFLICT; locks use SELECT ... FOR UPDATE and UPDATE ... RETURNING,
which PostgreSQL honours with row locks and SQLite makes moot (the transaction already holds
the database write lock since BEGIN IMMEDIATE).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.db.errors import (
    PaymentAlreadyAllocatedError,
    PaymentMismatchError,
    UnknownParticipantError,
)
from adapters.db.orm import (
    AllocationRow,
    ApplicationRow,
    BankPaymentRow,
    CardReservationRow,
    HouseholdClaimRow,
    HouseholdContributionRow,
    NotificationRow,
    ParticipantRow,
    ReceiptCounterRow,
    ReceiptLineRow,
    ReceiptRow,
    RevenueEntryRow,
    ValidityHistoryRow,
)
from adapters.db.records import (
    AllocationRequest,
    AllocationResult,
    ApplicationRecord,
    ContributionIn,
    LoadSummary,
)
from domain.application import NoticeView
from domain.identifiers import parse_card_number
from domain.models import (
    Allocation,
    ApplicationStatus,
    Participant,
    PaymentReceived,
    Receipt,
    ReceiptLine,
)
from domain.reconciliation import RecordedPayment
from domain.validity import renewal_period

CONFIRMED_OUTCOMES = frozenset({"confirmed", "00"})
"""`outcome` values of `record_bank_callback` that mean "this order is paid" (IPN answer 00)."""

FINAL_STATUSES = frozenset(s.value for s in ApplicationStatus if s.is_final)

_CHUNK = 500
"""Rows per IN (...) list: well under SQLite's bound-parameter limit."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def verification_code(application_id: str, series: str, year: int, number: int) -> str:
    """Deterministic, so a receipt rebuilt from the database carries the code it was issued with."""
    digest = hashlib.sha256(f"{application_id}|{series}|{year}|{number}".encode()).hexdigest()
    return digest[:12].upper()


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _payment_key(payment: PaymentReceived) -> str:
    """The bank transaction number keys a payment; a failed attempt may lack one."""
    if payment.bank_tran_no:
        return payment.bank_tran_no
    if payment.transaction_no:
        return f"TN:{payment.transaction_no}"
    return f"REF:{payment.txn_ref}:{payment.pay_date.isoformat()}:{payment.response_code}"


def _update_if_changed(row: Any, values: Mapping[str, Any]) -> bool:
    """Set `values` on `row` if any differs from what it holds; whether it did (an unchanged row
    is left untouched, so the session has nothing to flush for it)."""
    if not any(getattr(row, k) != v for k, v in values.items()):
        return False
    for k, v in values.items():
        setattr(row, k, v)
    return True


def _participant(row: ParticipantRow) -> Participant:
    return Participant(
        personal_id=row.personal_id,
        bhxh_number=row.bhxh_number,
        card_number=row.card_number,
        full_name=row.full_name,
        date_of_birth=row.date_of_birth,
        gender=row.gender,
        group=row.group_code,
        province_code=row.province_code,
        office_code=row.office_code,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


def _application(row: ApplicationRow) -> ApplicationRecord:
    return ApplicationRecord(
        application_id=row.application_id,
        status=row.status,
        household_code=row.household_code,
        province_code=row.province_code,
        member_count=row.member_count,
        declaration=row.declaration,
        quote=row.quote,
        txn_ref=row.txn_ref,
        amount=row.amount,
        deadline=row.deadline,
        allocated_at=row.allocated_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- helpers ----------------------------------------------------------------------------

    def _insert(self, entity: Any) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT (both dialects spell it the same)."""
        name = self.session.get_bind().dialect.name
        return postgresql.insert(entity) if name == "postgresql" else sqlite.insert(entity)

    def _insert_payment(
        self,
        key: str,
        payment: PaymentReceived,
        *,
        txn_ref: str,
        application_id: str | None,
        outcome: str,
        raw: dict[str, Any],
        now: datetime,
    ) -> Any:
        """The one way a bank payment row is first written (by the IPN or by step 4, whichever comes
        first): keyed by `key`, and a no-op when that bank transaction is already on record."""
        return (
            self._insert(BankPaymentRow)
            .values(
                bank_tran_no=key,
                transaction_no=payment.transaction_no,
                txn_ref=txn_ref,
                application_id=application_id,
                amount=payment.amount,
                bank_code=payment.bank_code,
                pay_date=payment.pay_date,
                response_code=payment.response_code,
                transaction_status=payment.transaction_status,
                is_paid=payment.is_paid,
                outcome=outcome,
                raw=raw,
                duplicate_count=0,
                received_at=now,
                last_seen_at=now,
            )
            .on_conflict_do_nothing(index_elements=["bank_tran_no"])
        )

    # -- participants (step 2b) ---------------------------------------------------------------

    async def find_participant(self, card_number: str) -> Participant | None:
        """Any of the three card-number forms; the 15-char form resolves by its BHXH number."""
        try:
            ref = parse_card_number(card_number)
        except ValueError:
            return None
        if ref.bhxh_number is not None:
            condition = ParticipantRow.bhxh_number == ref.bhxh_number
        else:
            condition = ParticipantRow.personal_id == ref.personal_id
        row = await self.session.scalar(select(ParticipantRow).where(condition))
        return None if row is None else _participant(row)

    async def paid_members_count(
        self, household_code: str, fiscal_year: int, exclude_bhxh: Collection[str] = ()
    ) -> int:
        """Distinct other members of the household who already paid in the household form that year."""
        stmt = select(func.count(func.distinct(HouseholdContributionRow.bhxh_number))).where(
            HouseholdContributionRow.household_code == household_code,
            HouseholdContributionRow.fiscal_year == fiscal_year,
        )
        excluded = sorted(set(exclude_bhxh))
        if excluded:
            stmt = stmt.where(HouseholdContributionRow.bhxh_number.not_in(excluded))
        return int(await self.session.scalar(stmt) or 0)

    # -- card reservations (no card in two applications in progress) ---------------------------

    async def reserve_cards(self, application_id: str, bhxh_numbers: Sequence[str]) -> list[str]:
        """Reserve the cards for this application; return those another application in progress holds.

        The primary key of card_reservations decides races: on PostgreSQL a second inserter
        waits for the first to commit and then finds the row taken. A reservation left by an
        application that has already ended (its release was lost) is taken over.
        """
        numbers = sorted(set(bhxh_numbers))
        if not numbers:
            return []
        now = utcnow()
        await self.session.execute(
            self._insert(CardReservationRow)
            .values(
                [{"bhxh_number": n, "application_id": application_id, "reserved_at": now} for n in numbers]
            )
            .on_conflict_do_nothing(index_elements=["bhxh_number"])
        )
        rows = await self.session.execute(
            select(CardReservationRow.bhxh_number, CardReservationRow.application_id).where(
                CardReservationRow.bhxh_number.in_(numbers)
            )
        )
        held = {number: holder for number, holder in rows if holder != application_id}
        if held:
            ended = set(
                await self.session.scalars(
                    select(ApplicationRow.application_id).where(
                        ApplicationRow.application_id.in_(set(held.values())),
                        ApplicationRow.status.in_(FINAL_STATUSES),
                    )
                )
            )
            for number, holder in list(held.items()):
                if holder not in ended:
                    continue
                taken = await self.session.scalar(
                    update(CardReservationRow)
                    .where(
                        CardReservationRow.bhxh_number == number, CardReservationRow.application_id == holder
                    )
                    .values(application_id=application_id, reserved_at=now)
                    .returning(CardReservationRow.bhxh_number)
                    .execution_options(synchronize_session=False)
                )
                if taken is not None:
                    del held[number]
        return [n for n in dict.fromkeys(bhxh_numbers) if n in held]

    async def release_cards(self, application_id: str) -> None:
        await self.session.execute(
            delete(CardReservationRow)
            .where(CardReservationRow.application_id == application_id)
            .execution_options(synchronize_session=False)
        )

    async def reserved_by(self, bhxh_number: str) -> str | None:
        return await self.session.scalar(
            select(CardReservationRow.application_id).where(CardReservationRow.bhxh_number == bhxh_number)
        )

    # -- household claims (one application in progress per household) ------------------------

    async def claim_household(self, household_code: str, application_id: str) -> str | None:
        """Make this the household's application in progress; the other open application, if any.

        Like card reservations, the primary key decides races, and a claim left by an application
        that has already ended (a lost release) is taken over.
        """
        now = utcnow()
        await self.session.execute(
            self._insert(HouseholdClaimRow)
            .values(household_code=household_code, application_id=application_id, claimed_at=now)
            .on_conflict_do_nothing(index_elements=["household_code"])
        )
        holder = await self.session.scalar(
            select(HouseholdClaimRow.application_id).where(HouseholdClaimRow.household_code == household_code)
        )
        if holder is None or holder == application_id:
            return None
        ended = await self.session.scalar(
            select(ApplicationRow.application_id).where(
                ApplicationRow.application_id == holder, ApplicationRow.status.in_(FINAL_STATUSES)
            )
        )
        if ended is None:
            return holder
        taken = await self.session.scalar(
            update(HouseholdClaimRow)
            .where(HouseholdClaimRow.household_code == household_code, HouseholdClaimRow.application_id == holder)
            .values(application_id=application_id, claimed_at=now)
            .returning(HouseholdClaimRow.household_code)
            .execution_options(synchronize_session=False)
        )
        return None if taken is not None else await self.claim_household(household_code, application_id)

    async def release_household(self, application_id: str) -> None:
        await self.session.execute(
            delete(HouseholdClaimRow)
            .where(HouseholdClaimRow.application_id == application_id)
            .execution_options(synchronize_session=False)
        )

    # -- applications --------------------------------------------------------------------------

    async def save_application(self, record: ApplicationRecord) -> None:
        """Upsert by application_id; created_at and allocated_at survive later saves."""
        now = utcnow()
        values: dict[str, Any] = {
            "status": str(record.status),
            "household_code": record.household_code,
            "province_code": record.province_code,
            "member_count": record.member_count,
            "declaration": None if record.declaration is None else record.declaration.model_dump(mode="json"),
            "quote": None if record.quote is None else record.quote.model_dump(mode="json"),
            "txn_ref": record.txn_ref,
            "amount": record.amount,
            "deadline": record.deadline,
            "updated_at": record.updated_at or now,
        }
        insert = self._insert(ApplicationRow).values(
            application_id=record.application_id, created_at=record.created_at or now, **values
        )
        await self.session.execute(
            insert.on_conflict_do_update(index_elements=["application_id"], set_=values)
        )

    async def set_application_status(self, application_id: str, status: str) -> bool:
        """False when the application is unknown (nothing to update)."""
        found = await self.session.scalar(
            update(ApplicationRow)
            .where(ApplicationRow.application_id == application_id)
            .values(status=str(status), updated_at=utcnow())
            .returning(ApplicationRow.application_id)
            .execution_options(synchronize_session=False)
        )
        return found is not None

    async def get_application(self, application_id: str) -> ApplicationRecord | None:
        row = await self.session.get(ApplicationRow, application_id, populate_existing=True)
        return None if row is None else _application(row)

    async def get_application_by_txn_ref(self, txn_ref: str) -> ApplicationRecord | None:
        row = await self.session.scalar(select(ApplicationRow).where(ApplicationRow.txn_ref == txn_ref))
        return None if row is None else _application(row)

    async def notices_of(self, application_id: str) -> list[NoticeView]:
        """Every notice of the application from the outbox, oldest first."""
        rows = await self.session.scalars(
            select(NotificationRow)
            .where(NotificationRow.application_id == application_id)
            .order_by(NotificationRow.created_at, NotificationRow.id)
        )
        return [
            NoticeView(
                kind=row.kind,
                recipient=row.recipient,
                message=row.message,
                created_at=row.created_at,
                status="delivered" if row.status == "delivered" else "pending",
                delivered_at=row.delivered_at,
            )
            for row in rows
        ]

    # -- bank callbacks (step 3) ---------------------------------------------------------------

    async def record_bank_callback(
        self, txn_ref: str, payment: PaymentReceived, raw: Mapping[str, str], outcome: str
    ) -> bool:
        """Keep every accepted callback for audit; True only the first time this transaction is seen."""
        now = utcnow()
        application_id = await self.session.scalar(
            select(ApplicationRow.application_id).where(ApplicationRow.txn_ref == txn_ref)
        )
        key = _payment_key(payment)
        inserted = await self.session.scalar(
            self._insert_payment(
                key,
                payment,
                txn_ref=txn_ref,
                application_id=application_id,
                outcome=outcome,
                raw=dict(raw),
                now=now,
            ).returning(BankPaymentRow.id)
        )
        if inserted is not None:
            return True
        await self.session.execute(
            update(BankPaymentRow)
            .where(BankPaymentRow.bank_tran_no == key)
            .values(duplicate_count=BankPaymentRow.duplicate_count + 1, last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        return False

    async def paid_callbacks_between(self, start: datetime, end: datetime) -> list[RecordedPayment]:
        """Successful payments we recorded with a pay date in [start, end), for the day's reconciliation."""
        rows = await self.session.execute(
            select(BankPaymentRow, ApplicationRow.status)
            .outerjoin(ApplicationRow, ApplicationRow.txn_ref == BankPaymentRow.txn_ref)
            .where(
                BankPaymentRow.is_paid.is_(True),
                BankPaymentRow.pay_date >= start,
                BankPaymentRow.pay_date < end,
            )
            .order_by(BankPaymentRow.id)
        )
        return [
            RecordedPayment(
                bank_tran_no=row.bank_tran_no,
                txn_ref=row.txn_ref,
                amount=row.amount,
                allocated=row.allocated_at is not None,
                application_status=status,
            )
            for row, status in rows.all()
        ]

    async def payment_confirmed(self, txn_ref: str) -> bool:
        """A successful payment for this order is already on record (the IPN answers 02)."""
        found = await self.session.scalar(
            select(BankPaymentRow.id)
            .where(
                BankPaymentRow.txn_ref == txn_ref,
                BankPaymentRow.is_paid.is_(True),
                BankPaymentRow.outcome.in_(CONFIRMED_OUTCOMES) | BankPaymentRow.allocated_at.is_not(None),
            )
            .limit(1)
        )
        return found is not None

    # -- allocation (steps 4 and 5) ------------------------------------------------------------

    async def allocate(self, request: AllocationRequest) -> AllocationResult:
        """Step 4 in one transaction, idempotent: a second call returns the first result, writing nothing.

        Lock order, the same for every caller so PostgreSQL never deadlocks: the application row,
        the participants (sorted), the bank payment, and last the receipt counter, which every
        allocation of the series shares and so is held for the shortest time.
        """
        now = utcnow()
        application = await self._lock_application(request, now)
        existing = await self.get_allocation(request.application_id)
        if existing is not None:
            return existing

        payment = request.payment
        total = sum(line.amount for line in request.lines)
        if not payment.is_paid:
            raise PaymentMismatchError(
                f"application {request.application_id}: the payment was not successful"
            )
        if payment.amount != total:
            raise PaymentMismatchError(
                f"application {request.application_id}: paid amount differs from the quote"
            )
        if application.txn_ref is not None and application.txn_ref != payment.txn_ref:
            raise PaymentMismatchError(f"application {request.application_id}: payment is for another order")
        numbers = [line.bhxh_number for line in request.lines]
        if len(set(numbers)) != len(numbers):
            raise PaymentMismatchError(f"application {request.application_id}: a card is quoted twice")

        participants = {
            row.bhxh_number: row
            for row in await self.session.scalars(
                select(ParticipantRow)
                .where(ParticipantRow.bhxh_number.in_(sorted(numbers)))
                .order_by(ParticipantRow.bhxh_number)
                .with_for_update()
            )
        }
        if len(participants) != len(numbers):
            raise UnknownParticipantError(f"application {request.application_id}: a quoted card is unknown")

        payment_row = await self._payment_for(request, now)
        fiscal_year = request.payment_date.year
        period = f"{request.payment_date:%Y-%m}"
        revenue: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        allocations: list[AllocationRow] = []
        for line_no, line in enumerate(request.lines, start=1):
            card = participants[line.bhxh_number]
            old_from, old_to = card.valid_from, card.valid_to
            new_from, new_to = renewal_period(old_to, request.payment_date, line.months)
            card.valid_from, card.valid_to, card.updated_at = new_from, new_to, now
            old_card = card.card_number
            reissued = card.group_code != "GD" and line.card_number == "GD" + old_card[2:]
            if reissued:  # a lapsed DN/HS card joins the household form: GD card, same BHXH number
                card.card_number, card.group_code = line.card_number, "GD"
            allocations.append(
                AllocationRow(
                    application_id=request.application_id,
                    payment_id=payment_row.id,
                    line_no=line_no,
                    bhxh_number=card.bhxh_number,
                    card_number=line.card_number,
                    office_code=card.office_code,
                    position=line.position,
                    months=line.months,
                    amount=line.amount,
                    old_valid_to=old_to,
                    valid_from=new_from,
                    valid_to=new_to,
                )
            )
            self.session.add_all(
                [
                    HouseholdContributionRow(
                        bhxh_number=card.bhxh_number,
                        household_code=request.household_code,
                        fiscal_year=fiscal_year,
                        position=line.position,
                        months=line.months,
                        amount=line.amount,
                        paid_on=request.payment_date,
                        valid_from=new_from,
                        valid_to=new_to,
                        application_id=request.application_id,
                        created_at=now,
                    ),
                    ValidityHistoryRow(
                        bhxh_number=card.bhxh_number,
                        application_id=request.application_id,
                        payment_id=payment_row.id,
                        old_valid_from=old_from,
                        old_valid_to=old_to,
                        new_valid_from=new_from,
                        new_valid_to=new_to,
                        changed_at=now,
                        old_card_number=old_card if reissued else None,
                        new_card_number=line.card_number if reissued else None,
                    ),
                ]
            )
            revenue[card.office_code][0] += line.amount
            revenue[card.office_code][1] += 1
        self.session.add_all(allocations)
        self.session.add_all(
            RevenueEntryRow(
                application_id=request.application_id,
                payment_id=payment_row.id,
                office_code=office,
                period=period,
                amount=amount,
                card_count=count,
                recorded_on=request.payment_date,
            )
            for office, (amount, count) in sorted(revenue.items())
        )
        application.status = ApplicationStatus.COMPLETED.value
        application.allocated_at = now
        application.updated_at = now
        await self.release_cards(request.application_id)
        await self.session.flush()

        number = await self._next_receipt_number(request.series, fiscal_year)
        from domain.words import amount_in_words

        receipt = ReceiptRow(
            application_id=request.application_id,
            payment_id=payment_row.id,
            series=request.series,
            year=fiscal_year,
            number=number,
            issued_on=request.payment_date,
            payer_name=request.payer_name,
            total=total,
            total_in_words=amount_in_words(total),
            txn_ref=payment.txn_ref,
            bank_tran_no=payment.bank_tran_no,
            verification_code=verification_code(request.application_id, request.series, fiscal_year, number),
        )
        self.session.add(receipt)
        await self.session.flush()
        self.session.add_all(
            ReceiptLineRow(
                receipt_id=receipt.id,
                line_no=row.line_no,
                card_number=row.card_number,
                full_name=line.member_name,
                months=row.months,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                amount=row.amount,
            )
            for row, line in zip(allocations, request.lines, strict=True)
        )
        await self.session.flush()
        result = await self.get_allocation(request.application_id)
        assert result is not None
        return result

    async def _lock_application(self, request: AllocationRequest, now: datetime) -> ApplicationRow:
        """Serialise allocations of one application; an application never saved is recorded now."""
        stmt = (
            select(ApplicationRow)
            .where(ApplicationRow.application_id == request.application_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = await self.session.scalar(stmt)
        if row is None:
            await self.session.execute(
                self._insert(ApplicationRow)
                .values(
                    application_id=request.application_id,
                    status=ApplicationStatus.ALLOCATING.value,
                    household_code=request.household_code,
                    member_count=len(request.lines),
                    txn_ref=request.payment.txn_ref,
                    amount=sum(line.amount for line in request.lines),
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["application_id"])
            )
            row = await self.session.scalar(stmt)
            assert row is not None
        return row

    async def _payment_for(self, request: AllocationRequest, now: datetime) -> BankPaymentRow:
        """The bank payment row (the IPN usually recorded it already), linked to this application."""
        payment = request.payment
        key = _payment_key(payment)
        await self.session.execute(
            self._insert_payment(
                key,
                payment,
                txn_ref=payment.txn_ref,
                application_id=request.application_id,
                outcome="confirmed",
                raw=payment.model_dump(mode="json"),
                now=now,
            )
        )
        row = await self.session.scalar(
            select(BankPaymentRow)
            .where(BankPaymentRow.bank_tran_no == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert row is not None
        if row.allocated_application_id not in (None, request.application_id):
            raise PaymentAlreadyAllocatedError(
                f"bank transaction {payment.bank_tran_no} is already allocated to another application"
            )
        if row.txn_ref != payment.txn_ref or row.amount != payment.amount:
            raise PaymentMismatchError(
                f"bank transaction {payment.bank_tran_no} was recorded for another order or amount"
            )
        row.application_id = request.application_id
        row.allocated_application_id = request.application_id
        row.allocated_at = now
        return row

    async def _next_receipt_number(self, series: str, year: int) -> int:
        """Gap-free because it is taken inside the allocation's transaction and rolls back with it.

        UPDATE ... RETURNING locks the counter row on PostgreSQL until commit, so concurrent
        allocations queue here; SQLite already serialises writers at BEGIN IMMEDIATE.
        """
        bump = (
            update(ReceiptCounterRow)
            .where(ReceiptCounterRow.series == series, ReceiptCounterRow.year == year)
            .values(last_number=ReceiptCounterRow.last_number + 1)
            .returning(ReceiptCounterRow.last_number)
            .execution_options(synchronize_session=False)
        )
        number = await self.session.scalar(bump)
        if number is None:
            await self.session.execute(
                self._insert(ReceiptCounterRow)
                .values(series=series, year=year, last_number=0)
                .on_conflict_do_nothing(index_elements=["series", "year"])
            )
            number = await self.session.scalar(bump)
        assert number is not None
        return int(number)

    async def get_allocation(self, application_id: str) -> AllocationResult | None:
        receipt = await self.get_receipt(application_id)
        if receipt is None:
            return None
        rows = await self.session.scalars(
            select(AllocationRow)
            .where(AllocationRow.application_id == application_id)
            .order_by(AllocationRow.line_no)
        )
        allocations = [
            Allocation(
                card_number=row.card_number,
                bhxh_number=row.bhxh_number,
                office_code=row.office_code,
                amount=row.amount,
                old_valid_to=row.old_valid_to,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
            )
            for row in rows
        ]
        return AllocationResult(receipt=receipt, allocations=allocations)

    async def get_receipt(self, application_id: str) -> Receipt | None:
        row = await self.session.scalar(select(ReceiptRow).where(ReceiptRow.application_id == application_id))
        if row is None:
            return None
        lines = await self.session.scalars(
            select(ReceiptLineRow).where(ReceiptLineRow.receipt_id == row.id).order_by(ReceiptLineRow.line_no)
        )
        return Receipt(
            series=row.series,
            number=row.number,
            year=row.year,
            issued_on=row.issued_on,
            payer_name=row.payer_name,
            lines=[
                ReceiptLine(
                    card_number=line.card_number,
                    full_name=line.full_name,
                    months=line.months,
                    valid_from=line.valid_from,
                    valid_to=line.valid_to,
                    amount=line.amount,
                )
                for line in lines
            ],
            total=row.total,
            total_in_words=row.total_in_words,
            txn_ref=row.txn_ref,
            bank_tran_no=row.bank_tran_no,
            verification_code=row.verification_code,
        )

    async def revenue_by_office(self, period: str) -> dict[str, int]:
        """Phát sinh thu of one accounting month (YYYY-MM), per managing office."""
        rows = await self.session.execute(
            select(RevenueEntryRow.office_code, func.sum(RevenueEntryRow.amount))
            .where(RevenueEntryRow.period == period)
            .group_by(RevenueEntryRow.office_code)
        )
        return {office: int(amount) for office, amount in rows}

    # -- reference data (DESIGN §6) ------------------------------------------------------------

    async def load_reference_data(self, data: Mapping[str, Any]) -> LoadSummary:
        """Upsert the file's participants and household contributions; loading twice changes nothing."""
        fields = Participant.model_fields
        participants = [
            Participant.model_validate({k: v for k, v in item.items() if k in fields})
            for item in data.get("participants", [])
        ]
        contributions = [
            ContributionIn.model_validate(item) for item in data.get("household_contributions", [])
        ]
        now = utcnow()
        counts: dict[str, int] = defaultdict(int)

        by_number = {p.bhxh_number: p for p in participants}
        existing: dict[str, ParticipantRow] = {}
        for chunk in _chunks(sorted(by_number)):
            for row in await self.session.scalars(
                select(ParticipantRow).where(ParticipantRow.bhxh_number.in_(chunk))
            ):
                existing[row.bhxh_number] = row
        for number, p in by_number.items():
            values: dict[str, Any] = {
                "card_number": p.card_number.strip().upper(),
                "personal_id": p.personal_id,
                "full_name": p.full_name,
                "date_of_birth": p.date_of_birth,
                "gender": p.gender.value,
                "group_code": p.group,
                "province_code": p.province_code,
                "office_code": p.office_code,
                "valid_from": p.valid_from,
                "valid_to": p.valid_to,
            }
            current = existing.get(number)
            if current is None:
                self.session.add(ParticipantRow(bhxh_number=number, updated_at=now, **values))
                counts["participants_inserted"] += 1
            elif _update_if_changed(current, values):
                current.updated_at = now
                counts["participants_updated"] += 1
            else:
                counts["participants_unchanged"] += 1
        await self.session.flush()

        def natural_key(c: Any) -> tuple[str, str, int, date]:
            return (c.bhxh_number, c.household_code, c.fiscal_year, c.paid_on)

        wanted = {natural_key(c): c for c in contributions}
        households = sorted({c.household_code for c in contributions})
        loaded: dict[tuple[str, str, int, date], HouseholdContributionRow] = {}
        for chunk in _chunks(households):
            for contribution in await self.session.scalars(
                select(HouseholdContributionRow).where(
                    HouseholdContributionRow.household_code.in_(chunk),
                    HouseholdContributionRow.application_id.is_(None),
                )
            ):
                loaded[natural_key(contribution)] = contribution
        for key, c in wanted.items():
            changes: dict[str, Any] = {
                "position": c.position,
                "months": c.months,
                "amount": c.amount,
                "valid_from": c.valid_from,
                "valid_to": c.valid_to,
            }
            found = loaded.get(key)
            if found is None:
                self.session.add(
                    HouseholdContributionRow(
                        bhxh_number=c.bhxh_number,
                        household_code=c.household_code,
                        fiscal_year=c.fiscal_year,
                        paid_on=c.paid_on,
                        application_id=None,
                        created_at=now,
                        **changes,
                    )
                )
                counts["contributions_inserted"] += 1
            elif _update_if_changed(found, changes):
                counts["contributions_updated"] += 1
            else:
                counts["contributions_unchanged"] += 1
        await self.session.flush()
        return LoadSummary(**counts)
