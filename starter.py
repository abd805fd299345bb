"""The shell entry for portal backends and operators.

    python starter.py declare FILE       start an application from a declaration JSON; prints the quote
    python starter.py status ID          the application as it stands
    python starter.py pay ID [--amount N] [--fail]
                                         ask the bank simulator to pay (the bank then calls our IPN)
    python starter.py cancel ID          cancel an application awaiting payment
    python starter.py review ID (--accept TRANSACTION [--override --reason R] | --refund-and-cancel)
                                         an operator's decision on an application in payment review
    python starter.py refund ID [--retry TRANSACTION | --paid-back TRANSACTION]
                                         refund every paid transaction of a closed application that is
                                         not allocated (money that arrived after its run ended); or
                                         decide on a refund the bank rejected
    Operator commands (review ID, refund) act as the operator named by --operator-token, else
    BHYT_OPERATOR_TOKEN (development: the dev operator); production refuses the dev token.
    python starter.py seed FILE          load a DESIGN §6 data file into the registry and the BHXH database
    python starter.py reconcile [--date YYYY-MM-DD]
                                         the bank's statement of the day against our records (exit 1 if
                                         anything needs an operator)
    python starter.py demo               a full renewal against the running stack (`make run`)
    python starter.py stats              applications by status and province (visibility store)
    python starter.py stats --from YYYY-MM-DD [--to YYYY-MM-DD] [--by day|month] [--json]
                                         the figures per period of declaration (BHXH database)
    python starter.py remind             run the daily reminder schedule now (created if missing)
    python starter.py review             what waits for an operator's decision: amount, reason, age

Configuration comes from the environment like every other process (config.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError

import operator_views
import services.cancel
import services.declare
import services.review
import services.stats
from adapters import reference_file
from adapters.bank import BankGatewayClient
from adapters.db import Database, migrate_async
from adapters.db.reference import held_by_others
from adapters.reference_file import FileProblem, ReferenceFileError
from adapters.temporal_client import connect
from config import ROOT, Settings, get_settings
from domain.application import VIETNAM_TZ, ApplicationView, vietnam_date
from domain.models import ApplicationStatus
from domain.payments import ReviewDecision
from domain.reconciliation import BankLine
from domain.reconciliation_stream import DayTally, reconcile_streams
from domain.stats import Figures, Granularity
from domain.validation import DeclarationInvalid, parse_declaration
from production import refuse_unsafe
from services import applications, refund_decisions
from services.declare import renewal_input
from services.errors import NoSuchApplication, UseCaseError
from services.refund_decisions import Decision
from workflows.contract import workflow_id

DEV_OPERATOR_TOKEN = "dev-operator-token"
"""The development operator's token (config.py's default BHYT_OPERATOR_TOKENS); refused in production."""
DEMO_DATA = ROOT / "data" / "demo.json"
DEMO_DECLARATION = ROOT / "data" / "demo_declaration.json"


def _print_view(view: ApplicationView) -> None:
    print(f"application {view.application_id}: {view.status.value}")
    if view.rejection_message:
        print(f"  rejected: {view.rejection_message}")
    for member in view.members:
        extra = f" ({member.reason.value})" if member.reason else ""
        period = f" {member.valid_from} → {member.valid_to}" if member.valid_from else ""
        print(f"  {member.card_number}: {member.result}{extra}{period}")
    if view.quote:
        print(f"  quote on {view.quote.quote_date}, base salary {view.quote.base_salary:,} đồng")
        for line in view.quote.lines:
            print(
                f"    #{line.position} {line.card_number} {line.rate_percent}% × {line.months} months"
                f" = {line.amount:,} đồng"
            )
        print(f"  total {view.quote.total:,} đồng — {view.quote.total_in_words}")
    if view.payment and view.status == ApplicationStatus.AWAITING_PAYMENT:
        deadline = view.payment.deadline.astimezone(VIETNAM_TZ).strftime("%H:%M %d/%m/%Y (GMT+7)")
        print(f"  pay {view.payment.amount:,} đồng, reference {view.payment.txn_ref}, before {deadline}")
        print(f"  pay at {view.payment.pay_url}")
    if view.review_reason:
        print(f"  payment review: {view.review_reason}")
    for p in view.payments:
        print(
            f"  payment {p.transaction}: {p.amount:,} đồng — {p.outcome.value}"
            + (f" ({p.reason})" if p.reason else "")
        )
    if view.receipt:
        print(f"  receipt {view.receipt.label}, verification code {view.receipt.verification_code}")


async def declare(settings: Settings, path: Path, application_id: str | None = None) -> ApplicationView:
    data = json.loads(path.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    try:
        declaration = parse_declaration(data, today=vietnam_date(now))
    except DeclarationInvalid as exc:
        raise SystemExit(f"invalid declaration: {exc}") from None
    request = renewal_input(settings, application_id or str(uuid.uuid4()), declaration, now)
    return await services.declare.submit(await connect(settings), settings, request)


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The BHXH database for one command, disposed after it."""
    db = Database(settings.database_url)
    try:
        yield db
    finally:
        await db.dispose()


def refused(application_id: str, exc: UseCaseError, prefix: str = "") -> SystemExit:
    """A use case's refusal as the shell says it (exit 1, the reason on stderr)."""
    if isinstance(exc, NoSuchApplication):
        return SystemExit(f"no application {application_id}")
    return SystemExit(f"{prefix}{exc}")


async def status(settings: Settings, application_id: str) -> ApplicationView:
    """The run's view of the application (what `pay` and `demo` follow)."""
    try:
        return await applications.find(await connect(settings), application_id)
    except UseCaseError as exc:
        raise refused(application_id, exc) from None


async def current(settings: Settings, application_id: str) -> ApplicationView:
    """The application as it stands, as the portal's GET gives it (payments completed by the records)."""
    async with database(settings) as db:
        try:
            return await applications.current(db, await connect(settings), application_id)
        except UseCaseError as exc:
            raise refused(application_id, exc) from None


async def pay(settings: Settings, application_id: str, amount: int | None, succeed: bool) -> dict[str, Any]:
    view = await status(settings, application_id)
    if view.payment is None:
        raise SystemExit(f"application {application_id} has no payment order ({view.status.value})")
    async with BankGatewayClient(settings.bank_url, settings.bhyt_tmn_code) as bank:
        return await bank.pay(view.payment.txn_ref, amount=amount, succeed=succeed)


async def cancel(settings: Settings, application_id: str) -> ApplicationView:
    """As the API cancels (services/cancel.py): refused, with the reason, once paid or closed."""
    async with database(settings) as db:
        try:
            return await services.cancel.cancel(db, await connect(settings), application_id)
        except UseCaseError as exc:
            raise refused(application_id, exc) from None


def operator_of(settings: Settings, token: str | None) -> str:
    """The operator this command acts as: the one BHYT_OPERATOR_TOKENS names for the token given
    (`--operator-token`, else BHYT_OPERATOR_TOKEN; in development the dev operator's token)."""
    from api.deps import operator_named
    from production import operator_token_problem

    if token is None and settings.bhyt_operator_token is not None:
        token = settings.bhyt_operator_token.get_secret_value() or None
    if token is None and not settings.production:
        token = DEV_OPERATOR_TOKEN
    problem = operator_token_problem(settings, token)
    if problem:
        raise SystemExit(problem)
    name = operator_named(settings, token)
    if name is None:
        raise SystemExit("the operator token is not one of BHYT_OPERATOR_TOKENS")
    return name


async def review(settings: Settings, application_id: str, decision: ReviewDecision) -> ApplicationView:
    """The `resolve_review` update: the run answers once it acted, or refuses naming the field.
    An accept of a transaction the bank did not confirm needs `--override --reason`."""
    async with database(settings) as db:
        try:
            return await services.review.resolve_review(db, await connect(settings), application_id, decision)
        except UseCaseError as exc:
            raise refused(application_id, exc, "decision refused: ") from None


async def refund(
    settings: Settings,
    application_id: str,
    operator: str,
    decide: tuple[Decision, str] | None = None,
) -> list[tuple[str, str]]:
    """Refund what the records hold for a closed application whose run has ended, or decide on a
    rejected refund first (services/refund_decisions.py `refund_closed`)."""
    async with (
        database(settings) as db,
        BankGatewayClient(settings.bank_url, settings.bhyt_tmn_code, secret=settings.bhyt_ipn_secret) as bank,
    ):
        try:
            return await refund_decisions.refund_closed(
                db, await connect(settings), bank, application_id, operator, decide
            )
        except UseCaseError as exc:
            raise refused(application_id, exc) from None


async def seed(settings: Settings, path: Path) -> None:
    """Both sides of the data file: citizens to the registry, participants and contributions to BHXH.

    The file is checked first (a repeated personal number or card is named by line and field),
    and nothing is loaded if it is wrong; no error shows a name or a number."""
    try:
        data = reference_file.load(path)
    except ReferenceFileError as exc:
        raise SystemExit(f"{path}: not loaded, nothing changed:\n{exc}") from None
    people = len(data.get("citizens") or []) + len(data.get("participants") or [])
    contributions = len(data.get("household_contributions") or [])
    print(f"{path}: {people:,} people and {contributions:,} contributions, checked", file=sys.stderr)
    progress = operator_views.Progress("loading", total=2)
    async with httpx.AsyncClient(base_url=settings.registry_url, timeout=30) as registry:
        response = await registry.post(
            "/admin/citizens",
            json={"citizens": data.get("citizens", [])},
            headers={"X-API-Key": settings.registry_api_key},
        )
        response.raise_for_status()
    progress.update(1, force=True)
    await migrate_async(settings.database_url)
    db = Database(settings.database_url)
    try:
        async with db.unit_of_work() as uow:
            summary = await uow.repo.load_reference_data(data)
            await uow.commit()
    except IntegrityError:
        async with db.unit_of_work(read_only=True) as uow:
            held = await held_by_others(uow.session, data)
        problems = [
            FileProblem(
                reference_file.line_of(data["participants"][index]),
                f"participants[{index}].{field}",
                "already held by another participant in the BHXH database",
            )
            for index, field in held
        ]
        listing = "\n".join(p.format(path) for p in problems) or f"{path}: a unique key of the database"
        raise SystemExit(
            f"{path}: the BHXH database refused the participants, nothing changed there:\n{listing}"
        ) from None
    finally:
        await db.dispose()
    progress.done(2, "registry and BHXH database")
    print(f"registry: {len(data.get('citizens', []))} citizens loaded")
    print(f"BHXH database: {summary}")


async def _stats(settings: Settings) -> str:
    return await operator_views.stats(await connect(settings))


async def figures(settings: Settings, start: date, end: date, by: Granularity) -> Figures:
    """The period figures from the BHXH database (services/stats.py, as `GET /api/v1/stats`)."""
    async with database(settings) as db:
        return await services.stats.figures(db, start, end, by)


async def remind(settings: Settings) -> str:
    """The reminder schedule (created if missing) and one run of it now, beside the daily ones."""
    from workflows.reminder_schedule import ensure_reminder_schedule, run_now

    client = await connect(settings)
    created = await ensure_reminder_schedule(
        client, settings.temporal_task_queue, settings.bhyt_reminder_hour
    )
    await run_now(client)
    return (
        "schedule created; " if created else ""
    ) + "reminder run started (see Schedules in the Temporal UI)"


async def _review(settings: Settings) -> str:
    db = Database(settings.database_url)
    try:
        return operator_views.review_table(await operator_views.review_queue(await connect(settings), db))
    finally:
        await db.dispose()


async def reconcile_day(settings: Settings, day: date, *, show_progress: bool = True) -> DayTally:
    """The bank's settled transactions of a Vietnam day against the payments we recorded that day.

    Both sides are streamed in bank transaction number order (the bank's statement in pages, our
    records through a cursor on the pay-date index) and merged in one pass: memory stays bounded
    whatever the size of the day (bench/scale.py reconcile measures a day of 100,000)."""
    progress = operator_views.Progress(f"reconciling {day}", quiet=not show_progress)
    start = datetime.combine(day, time.min, tzinfo=VIETNAM_TZ)
    db = Database(settings.database_url)
    try:
        async with (
            BankGatewayClient(settings.bank_url, settings.bhyt_tmn_code, timeout=60) as bank,
            db.unit_of_work(read_only=True) as uow,
        ):
            seen = 0

            async def bank_lines() -> AsyncIterator[list[BankLine]]:
                nonlocal seen
                async for page in bank.statement_pages(day):
                    seen += len(page)
                    progress.update(seen)
                    yield [
                        BankLine(
                            str(t["bank_tran_no"]),
                            str(t["txn_ref"]),
                            int(t["amount"]),
                            transaction_no=str(t.get("transaction_no") or ""),
                            bank_code=str(t.get("bank_code") or ""),
                        )
                        for t in page
                    ]

            ours = uow.repo.stream_paid_callbacks(start, start + timedelta(days=1))
            report = await reconcile_streams(bank_lines(), ours)
            progress.done(seen, f"{seen:,} bank transactions, {report.transactions:,} findings")
            return report
    finally:
        await db.dispose()


async def refunds_for_operator(settings: Settings, pending_hours: float) -> list[str]:
    """Refunds an operator must look at, whatever the day: rejected or refused by the bank
    (refund due: retry, or record it paid back by other means), and refunds the bank has been
    processing for longer than `pending_hours`."""
    from domain.refunds import RefundState, stored_state

    db = Database(settings.database_url)
    try:
        async with db.unit_of_work(read_only=True) as uow:
            rows = await uow.repo.refunds_needing_operator(datetime.now(UTC) - timedelta(hours=pending_hours))
    finally:
        await db.dispose()
    lines = []
    for row in rows:
        where = f"application {row.application_id}, transaction {row.payment_key}, {row.amount:,} đồng"
        if stored_state(row.refund_status) == RefundState.REJECTED:
            lines.append(f"  ! refund_due: {where}, bank answer {row.refund_status.split(':', 1)[-1]}")
        else:
            since = row.refund_requested_at.isoformat(timespec="minutes") if row.refund_requested_at else "?"
            lines.append(f"  ! refund_pending since {since}: {where}")
    return lines


def _print_report(day: date, report: DayTally) -> None:
    print(
        f"reconciliation of {day}: {report.transactions} transactions, bank total {report.bank_total:,} đồng"
    )
    for finding, count in sorted(report.counts.items()):
        print(f"  {finding.value:<15} {count}")
    for line in report.attention:
        print(
            f"  ! {line.finding.value}: bank transaction {line.bank_tran_no}, order {line.txn_ref}, "
            f"bank {line.bank_amount}, ours {line.our_amount}"
        )


async def wait_for(
    settings: Settings, application_id: str, statuses: set[ApplicationStatus], timeout: float = 60
) -> ApplicationView:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        view = await status(settings, application_id)
        if view.status in statuses or loop.time() > deadline:
            return view
        await asyncio.sleep(0.5)


async def public_receipt_link(settings: Settings, application_id: str) -> str:
    """The receipt's public lookup URL (the one its QR code holds), as the portal API gives it."""
    async with httpx.AsyncClient(base_url=settings.bhyt_public_url, timeout=30) as api:
        response = await api.get(
            f"/api/v1/renewals/{application_id}/receipt",
            headers={"Authorization": f"Bearer {settings.bhyt_api_token}"},
        )
        response.raise_for_status()
        return response.json()["lookup_url"]


async def demo(settings: Settings) -> int:
    """Declare the demo household, pay through the bank simulator, print the receipt and the UI link."""
    print(f"1. declaring {DEMO_DECLARATION.relative_to(ROOT)}")
    view = await declare(settings, DEMO_DECLARATION)
    _print_view(view)
    if view.status != ApplicationStatus.AWAITING_PAYMENT:
        print(
            "the demo household was not quoted: has the demo data been loaded (python starter.py seed data/demo.json)?"
        )
        return 1
    print(
        "2. paying at the bank simulator (the bank then calls the IPN endpoint, which signals the workflow)"
    )
    await pay(settings, view.application_id, None, True)
    final = await wait_for(
        settings, view.application_id, {ApplicationStatus.COMPLETED, ApplicationStatus.PAYMENT_REVIEW}
    )
    print("3. result")
    _print_view(final)
    base = settings.bhyt_public_url.rstrip("/")
    print(f"receipt:     {base}/api/v1/renewals/{view.application_id}/receipt?format=html (portal token)")
    if final.receipt is not None:
        lookup = await public_receipt_link(settings, view.application_id)
        print(f"lookup:      {lookup}  (public: open it in a browser; ?format=pdf for the signed PDF)")
    print(
        f"Temporal UI: {settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows/{workflow_id(view.application_id)}"
    )
    return 0 if final.status == ApplicationStatus.COMPLETED else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("declare", help="start an application from a declaration JSON file")
    p.add_argument("file", type=Path)
    p.add_argument("--id", help="application id to use (a retry with the same id joins the same application)")
    p = commands.add_parser("status", help="the application as it stands")
    p.add_argument("id")
    p = commands.add_parser("pay", help="ask the bank simulator to pay an application")
    p.add_argument("id")
    p.add_argument("--amount", type=int, help="pay another amount (to test a mismatch)")
    p.add_argument("--fail", action="store_true", help="a failed payment")
    p = commands.add_parser("cancel", help="cancel an application awaiting payment")
    p.add_argument("id")
    p = commands.add_parser(
        "review", help="without an id: what waits for a decision; with one: an operator's decision"
    )
    p.add_argument("id", nargs="?", help="the application in payment review (omit to list them all)")
    decision = p.add_mutually_exclusive_group()
    decision.add_argument(
        "--accept", metavar="TRANSACTION", help="allocate this transaction (vnp_TransactionNo)"
    )
    decision.add_argument("--refund-and-cancel", action="store_true", help="refund every payment and cancel")
    p.add_argument("--override", action="store_true", help="accept a transaction the bank did not confirm")
    p.add_argument("--reason", help="why (required with --override, kept with the decision)")
    p.add_argument("--operator-token", help="your operator token (default: BHYT_OPERATOR_TOKEN)")
    p = commands.add_parser("refund", help="refund the unallocated payments of a closed application")
    p.add_argument("id")
    refund_decision = p.add_mutually_exclusive_group()
    refund_decision.add_argument(
        "--retry", metavar="TRANSACTION", help="a rejected refund: send a new request"
    )
    refund_decision.add_argument(
        "--paid-back", metavar="TRANSACTION", help="a rejected refund: record it paid back by other means"
    )
    p.add_argument("--operator-token", help="your operator token (default: BHYT_OPERATOR_TOKEN)")
    p = commands.add_parser("seed", help="load a DESIGN §6 data file into both sides")
    p.add_argument("file", type=Path, nargs="?", default=DEMO_DATA)
    p = commands.add_parser("reconcile", help="the bank's statement of a day against our records")
    p.add_argument("--date", type=date.fromisoformat, help="Vietnam date (default: today in GMT+7)")
    p.add_argument("--pending-hours", type=float, default=24.0, help="list refunds in process for longer")
    commands.add_parser("demo", help="a full renewal against the running stack")
    p = commands.add_parser(
        "stats",
        help="without dates: applications by status and province; with --from: the figures per period",
    )
    p.add_argument("--from", dest="start", type=date.fromisoformat, help="first declaration day (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", type=date.fromisoformat, help="last declaration day (default: today)")
    p.add_argument("--by", choices=["day", "month"], default="day")
    p.add_argument("--json", action="store_true", help="the figures as JSON (as the operator API gives them)")
    commands.add_parser("remind", help="run the reminder schedule now (created if missing)")
    args = parser.parse_args(argv)
    settings = get_settings()
    refuse_unsafe(settings, f"starter.py {args.command}")

    if args.command == "declare":
        _print_view(asyncio.run(declare(settings, args.file, args.id)))
    elif args.command == "status":
        _print_view(asyncio.run(current(settings, args.id)))
    elif args.command == "pay":
        result = asyncio.run(pay(settings, args.id, args.amount, not args.fail))
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    elif args.command == "cancel":
        cancelled = asyncio.run(cancel(settings, args.id))
        if cancelled.status == ApplicationStatus.CANCELLED:
            print(f"application {args.id}: cancelled")
        else:
            print(f"cancel sent to application {args.id}: its run is closing")
    elif args.command == "review" and args.id is None:
        if args.accept or args.refund_and_cancel:
            parser.error("review: --accept and --refund-and-cancel need the application id")
        print(asyncio.run(_review(settings)))
    elif args.command == "review":
        if not (args.accept or args.refund_and_cancel):
            parser.error("review ID: choose --accept TRANSACTION or --refund-and-cancel")
        from pydantic import ValidationError

        from domain.review import ReviewRequest

        operator = operator_of(settings, args.operator_token)
        try:
            asked = ReviewRequest(
                action="accept" if args.accept else "refund_and_cancel",
                transaction=args.accept,
                override=args.override,
                reason=args.reason,
            )
            chosen = asked.decision(operator)
        except ValidationError as exc:
            parser.error(
                f"review: {', '.join(str(e['loc'][0]) if e['loc'] else e['msg'] for e in exc.errors())}"
            )
        _print_view(asyncio.run(review(settings, args.id, chosen)))
    elif args.command == "refund":
        operator = operator_of(settings, args.operator_token)
        decide: tuple[Decision, str] | None = None
        if args.retry:
            decide = ("retry", args.retry)
        elif args.paid_back:
            decide = ("paid_back", args.paid_back)
        for transaction, detail in asyncio.run(refund(settings, args.id, operator, decide)):
            print(f"transaction {transaction}: {detail}")
    elif args.command == "seed":
        asyncio.run(seed(settings, args.file))
    elif args.command == "reconcile":
        day = args.date or datetime.now(VIETNAM_TZ).date()
        report = asyncio.run(reconcile_day(settings, day))
        _print_report(day, report)
        refunds = asyncio.run(refunds_for_operator(settings, args.pending_hours))
        if refunds:
            print(f"refunds for an operator (rejected, or pending over {args.pending_hours:g} h):")
            print("\n".join(refunds))
        return 1 if report.attention or refunds else 0
    elif args.command == "demo":
        return asyncio.run(demo(settings))
    elif args.command == "stats" and args.start is None:
        if args.end is not None:
            parser.error("stats: --to needs --from")
        print(asyncio.run(_stats(settings)))
    elif args.command == "stats":
        end = args.end or datetime.now(VIETNAM_TZ).date()
        if end < args.start:
            parser.error("stats: --to is before --from")
        found = asyncio.run(figures(settings, args.start, end, args.by))
        print(
            found.model_dump_json(by_alias=True, indent=2)
            if args.json
            else operator_views.figures_table(found)
        )
    elif args.command == "remind":
        print(asyncio.run(remind(settings)))
    return 0


def _exit_now(code: int | str | None) -> None:
    """Exit without interpreter finalization: the Temporal SDK's runtime threads can abort it
    (PyGILState_Release, sdk-python issue 300) after a command has done its work and printed."""
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    try:
        _exit_now(main())
    except SystemExit as exc:
        _exit_now(exc.code)
