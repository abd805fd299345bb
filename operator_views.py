"""The operator's terminal views of `starter.py`: stats, the review queue, and progress lines.

Counts and identifiers only: what an operator acts on, never a name or a personal number.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.client import Client

from adapters.db import Database
from adapters.db.applications import waiting_review
from domain.models import ApplicationStatus
from domain.stats import Figures
from workflows import client as renewals
from workflows.contract import SA_PROVINCE_CODE, SA_RENEWAL_STATUS, WORKFLOW_TYPE


class Progress:
    """`label: 1,500 / 20,000 (7%) 3.2 s` on stderr, rewritten in place on a terminal, a line at a time otherwise."""

    def __init__(self, label: str, total: int | None = None, every: float = 0.5, quiet: bool = False) -> None:
        self.label, self.total, self.every, self.quiet = label, total, every, quiet
        self.started = self._last = time.monotonic()
        self.tty = sys.stderr.isatty()

    def update(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if self.quiet or (not force and now - self._last < self.every):
            return
        self._last = now
        of = f" / {self.total:,} ({done * 100 // self.total}%)" if self.total else ""
        line = f"{self.label}: {done:,}{of}  {now - self.started:.1f} s"
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        sys.stderr.flush()

    def done(self, done: int, note: str = "") -> None:
        if self.quiet:
            return
        self.update(done, force=True)
        sys.stderr.write(f"{'  ' + note if note else ''}\n" if self.tty else (note + "\n" if note else ""))
        sys.stderr.flush()


def table(header: list[str], rows: Iterable[list[str]]) -> str:
    rows = [header, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


async def stats(client: Client) -> str:
    """Applications by status and province, from the visibility store (one pass over the runs)."""
    counts: Counter[tuple[str, str]] = Counter()
    progress = Progress("reading the visibility store")
    seen = 0
    async for execution in client.list_workflows(f'WorkflowType="{WORKFLOW_TYPE}"'):
        attrs = execution.typed_search_attributes
        counts[(attrs.get(SA_RENEWAL_STATUS) or "(none)", attrs.get(SA_PROVINCE_CODE) or "--")] += 1
        seen += 1
        progress.update(seen)
    progress.done(seen, "runs")
    provinces = sorted({p for _, p in counts})
    statuses = [s.value for s in ApplicationStatus] + sorted(
        {s for s, _ in counts} - {s.value for s in ApplicationStatus}
    )
    rows = []
    for status in statuses:
        line = [counts[(status, p)] for p in provinces]
        if sum(line):
            rows.append([status, *(f"{n:,}" for n in line), f"{sum(line):,}"])
    totals = [sum(counts[(s, p)] for s in statuses) for p in provinces]
    rows.append(["total", *(f"{n:,}" for n in totals), f"{sum(totals):,}"])
    return table(["status \\ province", *provinces, "total"], rows)


@dataclass(frozen=True)
class Waiting:
    application_id: str
    amount: int | None
    reason: str
    waiting: timedelta


async def review_queue(client: Client, db: Database, now: datetime | None = None) -> list[Waiting]:
    """Applications in `payment_review`, oldest first: amount, why, and how long they wait."""
    now = now or datetime.now(UTC)
    async with db.unit_of_work(read_only=True) as uow:
        rows = await waiting_review(uow.session)
    queue = []
    for application_id, amount, since in rows:
        view = await renewals.status(client, application_id)
        reason = (view.review_reason if view else None) or "(no reason recorded)"
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        queue.append(Waiting(application_id, amount, reason, now - since))
    return queue


def format_age(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d}" if hours < 48 else f"{hours // 24} d {hours % 24} h"


def review_table(queue: list[Waiting]) -> str:
    if not queue:
        return "nothing waits for a decision"
    rows = [
        [w.application_id, f"{w.amount:,}" if w.amount is not None else "-", format_age(w.waiting), w.reason]
        for w in queue
    ]
    return table(["application", "amount (đồng)", "waiting", "reason"], rows) + (
        f"\n{len(queue)} waiting; decide: `starter.py review <application> --accept <transaction>`"
        " or `--refund-and-cancel`"
    )


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def figures_table(figures: Figures) -> str:
    """`starter.py stats --from … --to …`: one line per period, then each breakdown by period."""
    periods = figures.periods
    head = (
        f"figures of {figures.start} to {figures.end} by {figures.by} "
        "(period = declaration date, Vietnam time; outcomes count in the period declared)"
    )
    if not periods:
        return head + "\nno application declared in the period"
    main = table(
        ["period", "applications", "completed", "online %", "cards renewed", "collected (đồng)",
         "refunded (đồng)", "median to payment"],
        [
            [
                p.period, f"{p.applications:,}", f"{p.completed:,}",
                "-" if p.share_completed_online is None else f"{p.share_completed_online * 100:.1f}",
                f"{p.members_renewed:,}", f"{p.collected:,}", f"{p.refunded:,}",
                format_seconds(p.median_seconds_to_payment),
            ]
            for p in periods
        ],
    )  # fmt: skip
    parts = [head, "", main]
    for title, facet in (
        ("by status", "by_status"),
        ("by channel", "by_channel"),
        ("by province", "by_province"),
        ("cards renewed by office", "renewed_by_office"),
    ):
        keys = sorted({k for p in periods for k in getattr(p, facet)})
        if facet == "by_status":
            keys = [s.value for s in ApplicationStatus if s.value in keys] + [
                k for k in keys if k not in {s.value for s in ApplicationStatus}
            ]
        if not keys:
            continue
        rows = [[p.period, *(f"{getattr(p, facet).get(k, 0):,}" for k in keys)] for p in periods]
        parts += ["", title, table(["period", *keys], rows)]
    return "\n".join(parts)
