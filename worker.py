"""The worker: the one place that builds the adapters and hands them to the activities.

Run it with `python worker.py`; configuration comes from the environment (config.py).
SIGINT/SIGTERM stop it cleanly: running activities get the graceful-shutdown window, and
whatever is cut off is retried by Temporal on the next worker, never lost.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import py_compile
import signal
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.closing import ClosingActivities
from activities.notify import NotificationActivities
from activities.refunds import RefundActivities
from activities.reminders import ReminderActivities
from activities.review import ReviewActivities
from activities.safe_errors import SafeErrorsInterceptor
from activities.step1_declaration import DeclarationActivities
from activities.step2_verification import VerificationActivities
from activities.step3_payment import PaymentActivities
from activities.step4_allocation import AllocationActivities
from activities.step5_result import ResultActivities
from adapters.bank import BankGatewayClient
from adapters.db import Database
from adapters.notice_channels import EmailChannel, SmsChannel
from adapters.notifications import Notifier
from adapters.registry import RegistryClient
from adapters.temporal_client import connect
from config import Settings, get_settings
from logs import configure_logging
from metrics.worker import metrics_runtime
from production import refuse_unsafe
from workflows.reminder_schedule import ensure_reminder_schedule
from workflows.reminders import HouseholdReminders
from workflows.renewal import HouseholdRenewal

log = logging.getLogger("bhyt.worker")


def ipn_url(settings: Settings) -> str:
    return settings.bhyt_public_url.rstrip("/") + "/api/v1/payments/ipn"


def build_activities(
    settings: Settings, db: Database, registry: RegistryClient, bank: BankGatewayClient, notifier: Notifier
) -> Sequence[Any]:
    """Every activity of the five steps, bound to its adapters."""
    declaration = DeclarationActivities(db)
    review = ReviewActivities(db)
    closing = ClosingActivities(db)
    verification = VerificationActivities(db, registry)
    payment = PaymentActivities(db, bank, merchant_code=settings.bhyt_tmn_code, ipn_url=ipn_url(settings))
    refunds = RefundActivities(db, bank)
    allocation = AllocationActivities(db, bank)
    result = ResultActivities(notifier)
    notify = NotificationActivities(notifier)
    return [
        declaration.record_declaration,
        review.enter_review,
        closing.close_application,
        verification.verify_residence,
        verification.check_participation,
        verification.compute_quote,
        payment.open_payment,
        payment.settle_order,
        refunds.refund_payment,
        allocation.reconcile_payment,
        allocation.allocate,
        allocation.read_allocation,
        result.complete_application,
        notify.send_notice,
        *reminder_activities(settings, db),
    ]


def reminder_activities(settings: Settings, db: Database) -> Sequence[Any]:
    """The daily reminder run's two activities (workflows/reminders.py)."""
    reminders = ReminderActivities(
        db,
        within_days=settings.bhyt_reminder_days,
        public_url=settings.bhyt_public_url,
        link_template=settings.bhyt_reminder_link,
    )
    return [reminders.find_due_reminders, reminders.send_reminders]


def write_workflow_bytecode() -> None:
    """The workflow sandbox imports the workflow module afresh for every run; without its bytecode
    on disk (PYTHONDONTWRITEBYTECODE, common in containers) that is a compile of the module per
    run: ~10 % of the worker's CPU in the benchmark (issue 12). Written here whatever that
    setting says; a read-only checkout only costs the compile."""
    for name in ("workflows", HouseholdRenewal.__module__):
        source = getattr(sys.modules[name], "__file__", None)
        if not source:
            continue
        try:
            py_compile.compile(source, cfile=importlib.util.cache_from_source(source), doraise=True)
        except (OSError, py_compile.PyCompileError) as exc:
            log.info("workflow bytecode not written (%s): each run compiles the module", type(exc).__name__)


def notice_channels(settings: Settings) -> dict[str, Any]:
    """Email and SMS to the declarant, when their servers are configured, and the backoff."""
    return {
        "email": EmailChannel(settings.notify_smtp_url, settings.notify_email_from)
        if settings.notify_smtp_url
        else None,
        "sms": SmsChannel(settings.sms_gateway_url, settings.sms_gateway_api_key)
        if settings.sms_gateway_url
        else None,
        "retry_base_seconds": settings.notify_retry_base_seconds,
        "retry_max_seconds": settings.notify_retry_max_seconds,
    }


async def redeliver_notices(notifier: Notifier, stop: asyncio.Event, every: float = 60.0) -> None:
    """The outbox's only deliverer: activities write notices, this sweep sends them by every
    channel (webhook, email, SMS); failed ones wait their own backoff, so no notice is lost and
    none holds up a run or a newer notice. A notice refused for good (a 4xx other than 401/403,
    an SMTP 5xx) is marked rejected on that channel and left alone."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            try:
                sent = await notifier.retry_pending()
                if sent:
                    log.info("redelivered %d pending notices", sent)
            except Exception:  # noqa: BLE001 - a failed sweep is retried at the next one
                log.warning("pending notices sweep failed", exc_info=True)


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """The daily reminder schedule exists once a worker started (so `make run` has it); a server
    that refuses schedules does not stop the worker, the run is just not scheduled."""
    from temporalio.service import RPCError

    try:
        created = await ensure_reminder_schedule(
            client, settings.temporal_task_queue, settings.bhyt_reminder_hour
        )
    except RPCError as err:
        log.warning("reminder schedule not created (%s)", err.status.name if err.status else "error")
        return
    if created:
        log.info("reminder schedule created")


async def follow_refunds(
    db: Database, bank: BankGatewayClient, stop: asyncio.Event, every: float = 5.0
) -> None:
    """After the runs: refunds the bank is processing are asked about (querydr, with backoff per
    refund) until the bank says refunded or rejected (refund due, for an operator)."""
    from services.refunds import follow_due_refunds

    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            try:
                await follow_due_refunds(db, bank)
            except Exception:  # noqa: BLE001 - a failed sweep is retried at the next one
                log.warning("refund follow-up sweep failed", exc_info=True)


async def run_worker(settings: Settings, stop: asyncio.Event, client: Client | None = None) -> None:
    async with AsyncExitStack() as stack:
        client = client or await connect(settings, runtime=metrics_runtime(settings))
        db = Database(settings.database_url)
        stack.push_async_callback(db.dispose)
        registry = RegistryClient(settings.registry_url, settings.registry_api_key)
        stack.push_async_callback(registry.aclose)
        bank = BankGatewayClient(settings.bank_url, settings.bhyt_tmn_code, secret=settings.bhyt_ipn_secret)
        stack.push_async_callback(bank.aclose)
        notifier = Notifier(
            db,
            settings.notify_webhook_url or None,
            signing_secret=settings.notify_webhook_secret,
            **notice_channels(settings),
        )
        write_workflow_bytecode()
        worker = Worker(
            client,
            task_queue=settings.temporal_task_queue,
            workflows=[HouseholdRenewal, HouseholdReminders],
            activities=build_activities(settings, db, registry, bank, notifier),
            max_concurrent_activities=settings.worker_max_concurrent_activities,
            max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
            max_cached_workflows=settings.worker_max_cached_workflows,
            max_concurrent_workflow_task_polls=settings.worker_workflow_task_pollers,
            max_concurrent_activity_task_polls=settings.worker_activity_task_pollers,
            graceful_shutdown_timeout=timedelta(seconds=10),
            interceptors=[SafeErrorsInterceptor()],
        )
        await ensure_schedules(client, settings)
        async with worker:
            log.info("worker polling task queue %s", settings.temporal_task_queue)
            redeliver = asyncio.create_task(
                redeliver_notices(notifier, stop, every=settings.notify_sweep_seconds)
            )
            refunds = asyncio.create_task(
                follow_refunds(db, bank, stop, every=settings.bhyt_refund_follow_seconds)
            )
            await stop.wait()
            log.info("worker stopping")
            await redeliver
            await refunds


async def main() -> None:
    configure_logging("worker")
    settings = get_settings()
    refuse_unsafe(settings, "worker")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run_worker(settings, stop)


if __name__ == "__main__":
    asyncio.run(main())
