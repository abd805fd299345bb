"""The benchmark driver: plays portal backends and households against the running stack
(declare, pay at the bank, poll until completed) and keeps what it saw per application."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import bindparam, text
from temporalio.client import Client

from adapters.db import Database
from adapters.temporal_client import connect
from bench.figures import (
    CpuMeter,
    log,
    settle,
)
from scripts.stack import Stack

UNFINISHED = ("verifying", "awaiting_payment", "allocating")
"""Statuses of an application still on its way; anything else is where it ended (or is stuck:
payment_review waits for an operator)."""

POLL_SECONDS = 0.1

POOL = httpx.Limits(max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=2.0)
"""Pooled connections expire well before uvicorn drops idle ones (5 s, httpx's own default too):
with equal timeouts a connection idle between phases races the server's close, and a pay call
failed with ReadError (one renewal of 300 left unpaid)."""


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


class Bench:
    def __init__(self, stack: Stack, decls: list[dict[str, Any]]) -> None:
        self.stack = stack
        self.decls = decls
        self.apps: list[Application] = []
        self.results = Results()
        headers = {"Authorization": f"Bearer {stack.settings.bhyt_api_token}"}
        self.api = httpx.AsyncClient(base_url=stack.urls.api, headers=headers, timeout=60, limits=POOL)
        self.bank = httpx.AsyncClient(base_url=stack.urls.bank, timeout=60, limits=POOL)
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
        app.http_status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 202 and body.get("application_id"):
            # verification took longer than the API waits (README: 202 verifying): follow it as a
            # portal would, until the quote is there; the time counted is what the portal waited
            body = await self.follow(body["application_id"], body)
        elapsed = time.perf_counter() - t0
        app.application_id = body.get("application_id")
        app.declared_status = body.get("status")
        payment = body.get("payment") or {}
        app.txn_ref, app.amount = payment.get("txn_ref"), payment.get("amount")
        if response.status_code not in (201, 202) or app.declared_status != "awaiting_payment" or not app.txn_ref:
            app.error = f"POST answered {response.status_code} {app.declared_status}: {response.text[:300]}"
            self.results.declare_failures.append(f"household {household}: {app.error}")
        return app, elapsed

    async def follow(self, application_id: str, body: dict[str, Any], within: float = 120) -> dict[str, Any]:
        """GET the application until step 2 is over (or `within` seconds), as the README tells portals."""
        deadline = time.monotonic() + within
        while body.get("status") == "verifying" or not (body.get("payment") or {}).get("txn_ref"):
            if time.monotonic() > deadline or body.get("status") not in ("verifying", "awaiting_payment"):
                break
            await asyncio.sleep(POLL_SECONDS * 2)
            try:
                body = (await self.api.get(f"/api/v1/renewals/{application_id}")).json()
            except (httpx.HTTPError, ValueError):
                continue
        return body

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

    async def phase_pay_all(
        self, apps: list[Application], within: float, stall: float, concurrency: int | None = None
    ) -> None:
        """Pay every quoted application, all at once or `concurrency` pay calls at a time (the bank
        simulator's own IPN client times out when a thousand payments call back at once)."""
        payable = [a for a in apps if a.txn_ref and a.error is None]
        how = "at once" if concurrency is None else f"{concurrency} pay calls at a time"
        log(f"C. paying {len(payable)} quoted applications {how}, waiting for the worker")
        r = self.results
        r.pay_count = len(payable)
        if not payable:
            return
        gate = asyncio.Semaphore(concurrency or len(payable))

        async def one(app: Application) -> float:
            async with gate:
                return await self.pay(app)

        t0 = time.monotonic()
        r.pay_answer = list(await asyncio.gather(*(one(a) for a in payable)))
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
