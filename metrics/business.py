"""Business gauges, in one place: what operators must act on, computed when Prometheus scrapes.

- bhyt_applications{status}: open and closed applications by RenewalStatus, from the visibility
  store (the same query operators type in the UI);
- bhyt_runs_closed{execution_status}: runs that ended Failed, TimedOut or Terminated (a bug or an
  operator's hand, never a business outcome: those complete);
- bhyt_payment_review_waiting / _oldest_seconds: payments waiting for an operator's decision;
- bhyt_notices_pending / _oldest_seconds: notices not yet taken by the portal's webhook;
- bhyt_refunds_due / bhyt_refunds_due_dong: money received for applications that had closed;
- bhyt_reconciliation_findings{finding}: today's bank statement against our records
  (`not_received` = the bank settled, no callback reached us), refreshed every 5 minutes.

Counts only, never a name or a number. Queries are cheap (indexed status columns, visibility
counts); a slow or failing source sets bhyt_business_scrape_errors_total and keeps the rest.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import func, select
from temporalio.client import Client

from adapters.db import Database
from adapters.db.orm import ApplicationRow, BankPaymentRow, NotificationRow
from config import Settings
from domain.application import VIETNAM_TZ
from domain.models import OPEN_STATUSES, ApplicationStatus
from domain.reconciliation import Finding
from workflows.contract import SA_RENEWAL_STATUS, WORKFLOW_TYPE

log = logging.getLogger("bhyt.metrics")

ABNORMAL_ENDS = ("Failed", "TimedOut", "Terminated")
RECONCILE_EVERY_SECONDS = 300.0
"""The bank's statement is asked at most this often (scrapes come every few seconds)."""


class BusinessGauges:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.applications = Gauge(
            "bhyt_applications", "Applications by status (visibility store)", ["status"], registry=registry
        )
        self.runs_closed = Gauge(
            "bhyt_runs_closed", "Runs that ended abnormally", ["execution_status"], registry=registry
        )
        self.review_waiting = Gauge(
            "bhyt_payment_review_waiting", "Payments waiting for an operator", registry=registry
        )
        self.review_oldest = Gauge(
            "bhyt_payment_review_oldest_seconds", "Age of the oldest payment in review", registry=registry
        )
        self.notices_pending = Gauge("bhyt_notices_pending", "Notices not yet delivered", registry=registry)
        self.notices_oldest = Gauge(
            "bhyt_notices_pending_oldest_seconds", "Age of the oldest pending notice", registry=registry
        )
        self.refunds_due = Gauge(
            "bhyt_refunds_due", "Payments to refund (application closed)", registry=registry
        )
        self.refunds_due_dong = Gauge("bhyt_refunds_due_dong", "Amount to refund, đồng", registry=registry)
        self.findings = Gauge(
            "bhyt_reconciliation_findings",
            "Today's bank transactions by reconciliation finding (GMT+7 day)",
            ["finding"],
            registry=registry,
        )
        self._reconciled_at = 0.0
        self.errors = Counter(
            "bhyt_business_scrape_errors", "Failed business queries", ["source"], registry=registry
        )

    async def refresh(self, temporal: Client, db: Database, settings: Settings | None = None) -> None:
        try:
            await self._from_visibility(temporal)
        except Exception as exc:  # noqa: BLE001 - the database figures are still worth serving
            log.warning("business metrics: visibility query failed (%s)", type(exc).__name__)
            self.errors.labels("visibility").inc()
        try:
            await self._from_database(db)
        except Exception as exc:  # noqa: BLE001
            log.warning("business metrics: database query failed (%s)", type(exc).__name__)
            self.errors.labels("database").inc()
        if settings is not None and time.monotonic() - self._reconciled_at > RECONCILE_EVERY_SECONDS:
            try:
                await self._reconcile_today(settings)
                self._reconciled_at = time.monotonic()
            except Exception as exc:  # noqa: BLE001
                log.warning("business metrics: reconciliation failed (%s)", type(exc).__name__)
                self.errors.labels("reconciliation").inc()

    async def _reconcile_today(self, settings: Settings) -> None:
        """The bank's statement of today against our records, as `starter.py reconcile` does."""
        from starter import reconcile_day

        report = await reconcile_day(settings, datetime.now(VIETNAM_TZ).date(), show_progress=False)
        for finding in Finding:
            self.findings.labels(finding.value).set(report.counts.get(finding, 0))

    async def _from_visibility(self, temporal: Client) -> None:
        base = f'WorkflowType="{WORKFLOW_TYPE}"'
        for status in ApplicationStatus:
            found = await temporal.count_workflows(f'{base} AND {SA_RENEWAL_STATUS.name}="{status.value}"')
            self.applications.labels(status.value).set(found.count)
        for execution_status in ABNORMAL_ENDS:
            found = await temporal.count_workflows(f'{base} AND ExecutionStatus="{execution_status}"')
            self.runs_closed.labels(execution_status).set(found.count)

    async def _from_database(self, db: Database) -> None:
        now = datetime.now(UTC)

        def age(oldest: datetime | None) -> float:
            if oldest is None:
                return 0.0
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            return max(0.0, (now - oldest).total_seconds())

        async with db.unit_of_work(read_only=True) as uow:
            s = uow.session
            review_count, review_oldest = (
                await s.execute(
                    select(func.count(), func.min(ApplicationRow.updated_at)).where(
                        ApplicationRow.status == ApplicationStatus.PAYMENT_REVIEW.value
                    )
                )
            ).one()
            pending_count, pending_oldest = (
                await s.execute(
                    select(func.count(), func.min(NotificationRow.created_at)).where(
                        NotificationRow.status == "pending"
                    )
                )
            ).one()
            refund_count, refund_amount = (
                await s.execute(
                    select(func.count(), func.coalesce(func.sum(BankPaymentRow.amount), 0))
                    .outerjoin(ApplicationRow, ApplicationRow.txn_ref == BankPaymentRow.txn_ref)
                    .where(
                        # domain.reconciliation.unallocated_finding's refund_due, for every day at once
                        BankPaymentRow.is_paid.is_(True),
                        BankPaymentRow.allocated_at.is_(None),
                        BankPaymentRow.refund_status.is_(None)
                        | BankPaymentRow.refund_status.not_in(["refunded", "paid_back", "requested", "in_process"]),
                        ApplicationRow.status.is_(None)
                        | ApplicationRow.status.not_in([s.value for s in (*OPEN_STATUSES, ApplicationStatus.PAYMENT_REVIEW)]),
                    )
                )
            ).one()
        self.review_waiting.set(review_count)
        self.review_oldest.set(age(review_oldest))
        self.notices_pending.set(pending_count)
        self.notices_oldest.set(age(pending_oldest))
        self.refunds_due.set(refund_count)
        self.refunds_due_dong.set(int(refund_amount))
