"""End-to-end figures of the whole system on this machine: API latency and one worker's throughput.

Starts the real stack (scripts/stack.py: Temporal dev server, migrations, registry and bank
simulators, one worker, the API) on free ports, seeded with a synthetic DESIGN §6 file
(bench/households.py: N households of 3 GD members, cards valid a month ahead), then drives it
over HTTP as portal backends and households would:

  A. declare, one at a time       POST /api/v1/renewals for --sequential households → latency
  B. declare, C in flight         POST for --concurrent more households, --concurrency at a time
  C. pay everything quoted        POST {bank}/api/v1/orders/{txn_ref}/pay for all of A+B at once;
                                  the bank calls our IPN, the worker allocates; polled in the BHXH
                                  database until every application is completed → renewals/s
  D. full run                     --full households, --full-concurrency at a time, each
                                  declare → pay → completed → renewals/s and per-household time

Every application's final status is then read back through GET /api/v1/renewals/{id}; the exit
status is 1 when any did not complete (counts by status, and the evidence, are printed).
Traffic goes to 127.0.0.1 only. A benchmark, not a test: nothing here asserts a time.

    .venv/bin/python bench/renewals.py                       # SQLite, defaults below
    .venv/bin/python bench/renewals.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import bindparam, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from temporalio.client import Client  # noqa: E402

from adapters.db import Database  # noqa: E402
from adapters.temporal_client import connect  # noqa: E402
from bench.households import check, declarations, generate  # noqa: E402
from domain.application import vietnam_date  # noqa: E402
from scripts.stack import Stack, StackError  # noqa: E402

UNFINISHED = ("verifying", "awaiting_payment", "allocating")
"""Statuses of an application still on its way; anything else is where it ended (or is stuck:
payment_review waits for an operator)."""

POLL_SECONDS = 0.1


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- figures -------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def latency_row(values_s: list[float]) -> str:
    if not values_s:
        return "n/a"
    ms = [v * 1000 for v in values_s]
    return (
        f"median {statistics.median(ms):7.1f}  p90 {percentile(ms, 90):7.1f}  "
        f"p99 {percentile(ms, 99):7.1f}  max {max(ms):7.1f} ms  (n={len(ms)})"
    )


@dataclass
class Application:
    household: int
    application_id: str | None = None
    txn_ref: str | None = None
    amount: int | None = None
    declared_status: str | None = None
    http_status: int | None = None
    error: str | None = None
    declare_started: float = 0.0
    """Wall clock (time.time()) when the POST was sent."""
    pay_sent: float = 0.0
    """Wall clock when the pay call was sent."""
    completed_at: float | None = None
    """Wall clock of the `completed` status in the BHXH database (applications.updated_at)."""
    final_status: str | None = None
    final_view: dict[str, Any] | None = None


@dataclass
class Results:
    sequential: list[float] = field(default_factory=list)
    concurrent: list[float] = field(default_factory=list)
    concurrent_wall: float = 0.0
    full_declare: list[float] = field(default_factory=list)
    pay_answer: list[float] = field(default_factory=list)
    pay_count: int = 0
    pay_fire_wall: float = 0.0
    pay_to_done_wall: float | None = None
    pay_to_done_lat: list[float] = field(default_factory=list)
    pay_completed: int = 0
    pay_to_closed_wall: float | None = None
    settled_after_pay: float | None = None
    full_count: int = 0
    full_wall: float | None = None
    full_lat: list[float] = field(default_factory=list)
    full_completed: int = 0
    declare_failures: list[str] = field(default_factory=list)


# ---- CPU per component ---------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_by_group(groups: dict[int, str]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by every live process of each process group.
    Each stack component leads its own group (start_new_session), so its children count too."""
    used = dict.fromkeys(groups.values(), 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pgid = int(fields[2])
        if pgid in groups:
            used[groups[pgid]] += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return used


@dataclass
class Phase:
    label: str
    wall: float
    cpu: dict[str, float]


class CpuMeter:
    """CPU seconds per component between two marks: where the cores went during each phase."""

    def __init__(self, stack: Stack) -> None:
        procs = getattr(stack, "_procs", [])  # Stack keeps its children here; none → no CPU figures
        self.groups = {p.popen.pid: p.name for p in procs}
        self.groups[os.getpgid(0)] = "bench"
        self.names = [p.name for p in procs] + ["bench"]
        self.phases: list[Phase] = []
        self._mark = (time.monotonic(), self.sample())

    def sample(self) -> dict[str, float]:
        return cpu_by_group(self.groups) if Path("/proc/self/stat").exists() else {}

    def mark(self, label: str) -> Phase:
        now, cpu = time.monotonic(), self.sample()
        then, before = self._mark
        phase = Phase(label, now - then, {k: cpu.get(k, 0.0) - before.get(k, 0.0) for k in self.names})
        self.phases.append(phase)
        self._mark = (now, cpu)
        return phase

    def table(self) -> str:
        if not self.phases or not any(any(p.cpu.values()) for p in self.phases):
            return "(no CPU figures: /proc unavailable)"
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        width = max(len(p.label) for p in self.phases)
        head = f"  {'phase':<{width}} {'wall s':>7} " + " ".join(f"{n:>8}" for n in self.names)
        lines = [head + f" {'total':>7} {'busy':>5}"]
        for p in self.phases:
            total = sum(p.cpu.values())
            busy = total / (p.wall * cores) * 100 if p.wall else 0
            cells = " ".join(f"{p.cpu.get(n, 0.0):8.1f}" for n in self.names)
            lines.append(f"  {p.label:<{width}} {p.wall:7.1f} {cells} {total:7.1f} {busy:4.0f}%")
        return "\n".join(lines)


async def settle(meter: CpuMeter, quiet_share: float = 0.15, longest: float = 30.0) -> float:
    """Wait until the whole stack is nearly idle (below `quiet_share` of the cores for 1 s), so a
    phase does not pay for the previous one's leftovers; returns the seconds it took."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    start = time.monotonic()
    quiet = 0
    before = sum(meter.sample().values())
    while time.monotonic() - start < longest and quiet < 2:
        await asyncio.sleep(0.5)
        now = sum(meter.sample().values())
        quiet = quiet + 1 if (now - before) < quiet_share * cores * 0.5 else 0
        before = now
    return time.monotonic() - start


# ---- talking to the stack ------------------------------------------------------------------------


class Bench:
    def __init__(self, stack: Stack, decls: list[dict[str, Any]]) -> None:
        self.stack = stack
        self.decls = decls
        self.apps: list[Application] = []
        self.results = Results()
        headers = {"Authorization": f"Bearer {stack.settings.bhyt_api_token}"}
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
        self.api = httpx.AsyncClient(base_url=stack.urls.api, headers=headers, timeout=60, limits=limits)
        self.bank = httpx.AsyncClient(base_url=stack.urls.bank, timeout=60, limits=limits)
        self.db = Database(stack.settings.database_url)
        self.meter = CpuMeter(stack)
        self.temporal: Client | None = None

    async def running_workflows(self) -> int | None:
        """Open workflow executions, as the server's visibility store counts them (None: unknown)."""
        try:
            if self.temporal is None:
                self.temporal = await connect(self.stack.settings)
            return (await self.temporal.count_workflows("ExecutionStatus = 'Running'")).count
        except Exception as exc:  # noqa: BLE001 - an extra figure; the benchmark goes on without it
            log(f"  cannot count running workflows: {type(exc).__name__}: {exc}")
            return None

    async def close(self) -> None:
        await self.api.aclose()
        await self.bank.aclose()
        await self.db.dispose()

    # -- the BHXH database, read only: cheap polling -------------------------------------------

    async def db_statuses(self, ids: list[str]) -> dict[str, tuple[str, datetime]]:
        """Status and last change of the given applications, as the BHXH database records them."""
        query = text(
            "SELECT application_id, status, updated_at FROM applications WHERE application_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        async with self.db.unit_of_work(read_only=True) as uow:
            rows = (await uow.session.execute(query, {"ids": ids})).all() if ids else []
        result = {}
        for application_id, status, updated in rows:
            if isinstance(updated, str):  # raw SQL on SQLite returns the stored text
                updated = datetime.fromisoformat(updated)
            if updated.tzinfo is None:
                updated = updated.replace(tzinfo=UTC)
            result[application_id] = (status, updated)
        return result

    async def db_status_counts(self, ids: list[str]) -> Counter[str]:
        """How many of the given applications are in each status: one cheap query per poll."""
        query = text(
            "SELECT status, count(*) FROM applications WHERE application_id IN :ids GROUP BY status"
        ).bindparams(bindparam("ids", expanding=True))
        async with self.db.unit_of_work(read_only=True) as uow:
            rows = (await uow.session.execute(query, {"ids": ids})).all()
        return Counter({status: count for status, count in rows})

    # -- step by step ---------------------------------------------------------------------------

    async def declare(self, household: int) -> tuple[Application, float]:
        app = Application(household)
        self.apps.append(app)
        app.declare_started = time.time()
        t0 = time.perf_counter()
        try:
            response = await self.api.post(
                "/api/v1/renewals", json=self.decls[household], headers={"Idempotency-Key": str(uuid.uuid4())}
            )
        except httpx.HTTPError as exc:
            elapsed = time.perf_counter() - t0
            app.error = f"POST failed: {type(exc).__name__}: {exc}"
            self.results.declare_failures.append(f"household {household}: {app.error}")
            return app, elapsed
        elapsed = time.perf_counter() - t0
        app.http_status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        app.application_id = body.get("application_id")
        app.declared_status = body.get("status")
        payment = body.get("payment") or {}
        app.txn_ref, app.amount = payment.get("txn_ref"), payment.get("amount")
        if response.status_code != 201 or app.declared_status != "awaiting_payment" or not app.txn_ref:
            app.error = f"POST answered {response.status_code} {app.declared_status}: {response.text[:300]}"
            self.results.declare_failures.append(f"household {household}: {app.error}")
        return app, elapsed

    async def pay(self, app: Application) -> float:
        app.pay_sent = time.time()
        t0 = time.perf_counter()
        try:
            response = await self.bank.post(f"/api/v1/orders/{app.txn_ref}/pay", json={})
            if response.status_code != 202:
                app.error = f"pay answered {response.status_code}: {response.text[:300]}"
        except httpx.HTTPError as exc:
            app.error = f"pay failed: {type(exc).__name__}: {exc}"
        return time.perf_counter() - t0

    async def wait_finished(self, apps: list[Application], within: float, stall: float) -> float | None:
        """Poll the database until none of `apps` is unfinished; returns the monotonic time of the
        poll that saw them all completed (None if some ended otherwise, stalled or timed out).
        Each one's completion time is then read from the database (applications.updated_at)."""
        by_id = {a.application_id: a for a in apps if a.application_id}
        ids = list(by_id)
        deadline = time.monotonic() + within
        last_progress, best = time.monotonic(), -1
        result: float | None = None
        while True:
            counts = await self.db_status_counts(ids)
            now = time.monotonic()
            done = len(ids) - sum(counts[s] for s in UNFINISHED)
            if done > best:
                best, last_progress = done, now
            if done == len(ids):
                result = now if counts["completed"] == len(ids) else None
                break
            if now > deadline or now - last_progress > stall:
                log(f"  gave up waiting: {dict(counts)}")
                break
            await asyncio.sleep(POLL_SECONDS)
        for application_id, (status, updated) in (await self.db_statuses(ids)).items():
            if status == "completed":
                by_id[application_id].completed_at = updated.timestamp()
        return result

    # -- the phases -----------------------------------------------------------------------------

    async def phase_sequential(self, households: range) -> list[Application]:
        log(f"A. {len(households)} declarations, one at a time")
        apps = []
        for h in households:
            app, elapsed = await self.declare(h)
            self.results.sequential.append(elapsed)
            apps.append(app)
        self.meter.mark(f"A. {len(households)} POST, 1 at a time")
        return apps

    async def phase_concurrent(self, households: range, concurrency: int) -> list[Application]:
        log(f"B. {len(households)} declarations, {concurrency} in flight")
        gate = asyncio.Semaphore(concurrency)

        async def one(h: int) -> Application:
            async with gate:
                app, elapsed = await self.declare(h)
                self.results.concurrent.append(elapsed)
                return app

        t0 = time.perf_counter()
        apps = list(await asyncio.gather(*(one(h) for h in households)))
        self.results.concurrent_wall = time.perf_counter() - t0
        self.meter.mark(f"B. {len(households)} POST, {concurrency} in flight")
        return apps

    async def phase_pay_all(self, apps: list[Application], within: float, stall: float) -> None:
        payable = [a for a in apps if a.txn_ref and a.error is None]
        log(f"C. paying {len(payable)} quoted applications at once, waiting for the worker")
        r = self.results
        r.pay_count = len(payable)
        if not payable:
            return
        t0 = time.monotonic()
        r.pay_answer = list(await asyncio.gather(*(self.pay(a) for a in payable)))
        r.pay_fire_wall = time.monotonic() - t0
        done_at = await self.wait_finished(payable, within, stall)
        r.pay_to_done_wall = None if done_at is None else done_at - t0
        r.pay_to_done_lat = [a.completed_at - a.pay_sent for a in payable if a.completed_at]
        r.pay_completed = sum(1 for a in payable if a.completed_at)
        if done_at is not None:  # the runs still close after the database says completed
            deadline = time.monotonic() + within
            while True:
                running = await self.running_workflows()
                if not running or time.monotonic() > deadline:
                    break
                await asyncio.sleep(POLL_SECONDS)
            if running == 0:
                r.pay_to_closed_wall = time.monotonic() - t0
        self.meter.mark(f"C. pay {r.pay_count}, until completed")
        r.settled_after_pay = await settle(self.meter)
        self.meter.mark("   then until the stack is idle")

    async def phase_full(self, households: range, concurrency: int, within: float) -> None:
        log(f"D. full run: {len(households)} households, {concurrency} in flight, declare → pay → completed")
        r = self.results
        r.full_count = len(households)
        gate = asyncio.Semaphore(concurrency)
        waiting: dict[str, tuple[Application, asyncio.Future[None]]] = {}
        stop = asyncio.Event()

        async def poller() -> None:
            while not stop.is_set():
                if waiting:
                    statuses = await self.db_statuses(list(waiting))
                    for application_id, (app, future) in list(waiting.items()):
                        status, updated = statuses.get(application_id, ("(missing)", datetime.now(UTC)))
                        if status not in UNFINISHED and status != "(missing)":
                            if status == "completed":
                                app.completed_at = updated.timestamp()
                            del waiting[application_id]
                            future.set_result(None)
                await asyncio.sleep(POLL_SECONDS)

        async def one(h: int) -> None:
            async with gate:
                app, elapsed = await self.declare(h)
                r.full_declare.append(elapsed)
                if app.error or not app.application_id:
                    return
                await self.pay(app)
                if app.error:
                    return
                future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                waiting[app.application_id] = (app, future)
                try:
                    await asyncio.wait_for(future, within)
                except TimeoutError:
                    waiting.pop(app.application_id, None)
                    app.error = f"not finished within {within:.0f} s of payment"
                if app.completed_at:
                    r.full_lat.append(app.completed_at - app.declare_started)

        task = asyncio.create_task(poller())
        t0 = time.monotonic()
        try:
            await asyncio.gather(*(one(h) for h in households))
        finally:
            stop.set()
            await task
        r.full_completed = len(r.full_lat)
        r.full_wall = time.monotonic() - t0
        self.meter.mark(f"D. full run of {len(households)}, {concurrency} in flight")

    async def final_statuses(self) -> Counter[str]:
        """What the API says of every application (the workflow's own view), 8 at a time."""
        gate = asyncio.Semaphore(8)

        async def one(app: Application) -> None:
            if not app.application_id:
                app.final_status = "not created" if app.error else "(no id)"
                return
            async with gate:
                try:
                    response = await self.api.get(f"/api/v1/renewals/{app.application_id}")
                    app.final_view = response.json()
                    app.final_status = app.final_view.get("status", f"HTTP {response.status_code}")
                except (httpx.HTTPError, ValueError) as exc:
                    app.final_status = f"GET failed ({type(exc).__name__})"

        await asyncio.gather(*(one(a) for a in self.apps))
        return Counter(a.final_status or "?" for a in self.apps)

    async def evidence(self, limit: int = 5) -> list[str]:
        """For applications that did not complete: their view and the bank's IPN attempts."""
        lines = []
        for app in [a for a in self.apps if a.final_status != "completed"][:limit]:
            view = app.final_view or {}
            lines.append(
                f"  household {app.household} application {app.application_id}: {app.final_status}"
                f" (declared {app.http_status} {app.declared_status}; error: {app.error};"
                f" review_reason: {view.get('review_reason')})"
            )
            if app.txn_ref:
                try:
                    order = (await self.bank.get(f"/api/v1/orders/{app.txn_ref}")).json()
                    attempts = [
                        f"{a.get('kind')} http={a.get('http_status')} rsp={a.get('rsp_code')} err={a.get('error')}"
                        for a in order.get("ipn_attempts", [])
                    ]
                    lines.append(f"    bank order {order.get('status')}; IPN attempts: {attempts or 'none'}")
                except (httpx.HTTPError, ValueError) as exc:
                    lines.append(f"    bank order unreadable: {type(exc).__name__}")
        return lines


# ---- reporting -----------------------------------------------------------------------------------


LOG_PATTERNS = {
    "tracebacks": re.compile(r"^Traceback"),
    "errors": re.compile(r"\bERROR\b|\b\w*(Exception|Error):"),
    "warnings": re.compile(r"\bWARN(ING)?\b"),
    "http_5xx": re.compile(r'HTTP/1\.[01]" 5\d\d\b|-> 5\d\d\b'),
}


def scan_logs(log_dir: Path) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for path in sorted(log_dir.glob("*.log")):
        counts = {name: 0 for name in LOG_PATTERNS}
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            for name, pattern in LOG_PATTERNS.items():
                if pattern.search(line):
                    counts[name] += 1
        found[path.stem] = counts
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def rate(count: int, seconds: float | None) -> str:
    if not seconds or not count:
        return "n/a"
    return f"{count / seconds:6.1f} renewals/s  ({count} in {seconds:.2f} s)"


def summary(
    args: argparse.Namespace, stack: Stack, bench: Bench, statuses: Counter[str], db_label: str
) -> str:
    r = bench.results
    settings = stack.settings
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rows = [
        ("machine", f"{cpu_model()}; nproc {affinity} (cpu_count {os.cpu_count()}); RAM {memory_gib()}"),
        (
            "software",
            f"Python {platform.python_version()} on {platform.system()} {platform.release()}; "
            f"temporalio {package_version('temporalio')}; temporal CLI dev server (SQLite)",
        ),
        ("database", db_label),
        (
            "worker",
            f"1 process; max concurrent activities {settings.worker_max_concurrent_activities}, "
            f"workflow tasks {settings.worker_max_concurrent_workflow_tasks}",
        ),
        (
            "data",
            f"{args.households} households × 3 GD members seeded; stack up in "
            f"{sum(stack.timings.values()):.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in stack.timings.items())})",
        ),
        ("", ""),
        ("A. POST /renewals, 1 at a time", latency_row(r.sequential)),
        ("   first (cold) request", f"{r.sequential[0] * 1000:.1f} ms" if r.sequential else "n/a"),
        (f"B. POST /renewals, {args.concurrency} in flight", latency_row(r.concurrent)),
        (
            "   declarations per second",
            rate(len(r.concurrent), r.concurrent_wall).replace("renewals", "quotes"),
        ),
        (
            f"C. pay {r.pay_count} at once → all completed",
            rate(r.pay_completed, r.pay_to_done_wall)
            if r.pay_to_done_wall
            else f"not all completed ({r.pay_completed}/{r.pay_count})",
        ),
        (
            "   … until every run closed",
            rate(r.pay_completed, r.pay_to_closed_wall) if r.pay_to_closed_wall else "n/a",
        ),
        (
            "   pay calls answered by the bank",
            f"all {r.pay_count} in {r.pay_fire_wall:.2f} s; " + latency_row(r.pay_answer),
        ),
        ("   each: pay sent → completed", latency_row(r.pay_to_done_lat)),
        (
            "   stack still busy afterwards",
            f"{r.settled_after_pay:.1f} s until idle" if r.settled_after_pay is not None else "n/a",
        ),
        (
            f"D. full run, {args.full_concurrency} in flight",
            rate(r.full_completed, r.full_wall)
            if r.full_completed == r.full_count
            else f"{r.full_completed}/{r.full_count} completed in {r.full_wall or 0:.2f} s",
        ),
        ("   each: POST sent → completed", latency_row(r.full_lat)),
        ("   its POST /renewals (mixed load)", latency_row(r.full_declare)),
        ("", ""),
        ("final status (GET /renewals/{id})", ", ".join(f"{k} {v}" for k, v in statuses.most_common())),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" if k else "" for k, v in rows)


# ---- database ------------------------------------------------------------------------------------


async def create_postgres(url: str) -> tuple[str, str]:
    """A fresh database on the server of `url`: its name, or a generated one when none is given.
    Refuses an existing database (it would be dropped at the end). Returns (url, name)."""
    import asyncpg

    parsed = make_url(url)
    name = parsed.database or f"bhyt_bench_{uuid.uuid4().hex[:10]}"
    admin_url = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    admin = await asyncpg.connect(admin_url, timeout=10)
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            raise SystemExit(f"database {name!r} already exists: name a fresh one (it is dropped afterwards)")
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return parsed.set(database=name).render_as_string(hide_password=False), name


async def drop_postgres(url: str, name: str) -> None:
    import asyncpg

    admin_url = (
        make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    )
    admin = await asyncpg.connect(admin_url, timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


# ---- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sequential", type=int, default=200, help="A: households declared one at a time (200)")
    p.add_argument("--concurrent", type=int, default=100, help="B: households declared concurrently (100)")
    p.add_argument("--concurrency", type=int, default=8, help="B: declarations in flight (8)")
    p.add_argument("--full", type=int, default=60, help="D: households declared, paid and completed (60)")
    p.add_argument("--full-concurrency", type=int, default=8, help="D: households in flight (8)")
    p.add_argument("--households", type=int, default=None, help="households seeded (default: A+B+D)")
    p.add_argument(
        "--database-url",
        default=None,
        help="default SQLite under the var dir; postgresql+asyncpg://USER@HOST:PORT/[NAME] creates "
        "a fresh database (NAME must not exist; generated if omitted) and drops it afterwards",
    )
    p.add_argument(
        "--timeout", type=float, default=120, help="C/D: longest wait for completion, seconds (120)"
    )
    p.add_argument("--stall", type=float, default=45, help="C: give up after this long without progress (45)")
    p.add_argument("--var-dir", type=Path, default=None, help="keep the stack's files (logs, databases) here")
    p.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (and a PostgreSQL database)"
    )
    args = p.parse_args(argv)
    needed = args.sequential + args.concurrent + args.full
    args.households = args.households or needed
    if args.households < needed:
        p.error(f"--households {args.households} is fewer than the {needed} the phases use")
    return args


async def drive(args: argparse.Namespace, stack: Stack, decls: list[dict[str, Any]], db_label: str) -> int:
    bench = Bench(stack, decls)
    try:
        a, b = args.sequential, args.concurrent
        await settle(bench.meter)
        bench.meter.mark("0. after start-up, until idle")
        quoted = await bench.phase_sequential(range(0, a))
        quoted += await bench.phase_concurrent(range(a, a + b), args.concurrency)
        await bench.phase_pay_all(quoted, args.timeout, args.stall)
        await bench.phase_full(range(a + b, a + b + args.full), args.full_concurrency, args.timeout)
        statuses = await bench.final_statuses()
        print()
        print(summary(args, stack, bench, statuses, db_label))
        print("\nCPU seconds by component (busy: share of all cores over the phase's wall time):")
        print(bench.meter.table())
        failed = [x for x in bench.apps if x.final_status != "completed"]
        if bench.results.declare_failures:
            print(f"\n{len(bench.results.declare_failures)} declaration(s) failed, first ones:")
            for line in bench.results.declare_failures[:5]:
                print("  " + line)
        if failed:
            print(f"\n{len(failed)} of {len(bench.apps)} applications did not complete; first ones:")
            for line in await bench.evidence():
                print(line)
        print(f"\nlog lines under {stack.log_dir}:")
        print(f"  {'component':<10} {'traceback':>9} {'ERROR':>6} {'WARNING':>7} {'HTTP 5xx':>8}")
        for name, c in scan_logs(stack.log_dir).items():
            print(f"  {name:<10} {c['tracebacks']:>9} {c['errors']:>6} {c['warnings']:>7} {c['http_5xx']:>8}")
        return 1 if failed else 0
    finally:
        await bench.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    today = vietnam_date(datetime.now(UTC))
    tmp = Path(tempfile.mkdtemp(prefix="bhyt-bench-"))
    var_dir = (args.var_dir or tmp / "var").resolve()
    pg: tuple[str, str] | None = None
    code = 2
    try:
        log(f"generating {args.households} households (quote date {today}) in {tmp}")
        data = generate(args.households, today=today)
        decls = declarations(data)
        check(data, decls, today=today)
        data_file = tmp / "households.json"
        data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

        database_url = args.database_url
        if database_url and make_url(database_url).get_backend_name() == "postgresql":
            pg = asyncio.run(create_postgres(database_url))
            database_url = pg[0]
            db_label = f"PostgreSQL, fresh database {pg[1]} on {make_url(database_url).host}"
        elif database_url:
            db_label = make_url(database_url).render_as_string(hide_password=True)
        else:
            db_label = f"SQLite (WAL) {var_dir / 'bhyt.db'}"

        stack = Stack.on_free_ports(var_dir, seed=data_file, database_url=database_url, progress=log)
        log(f"starting the stack in {var_dir}")
        try:
            stack.start()
        except StackError as exc:
            print(f"the stack did not start: {exc}")
            return 2
        try:
            code = asyncio.run(drive(args, stack, decls, db_label))
            return code
        finally:
            stack.stop()
    finally:
        if pg is not None and not args.keep:
            asyncio.run(drop_postgres(pg[0], pg[1]))
        if args.keep or code != 0:
            log(
                f"kept {tmp} (logs under {var_dir / 'logs'})"
                + (f" and database {pg[1]}" if pg and args.keep else "")
            )
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
