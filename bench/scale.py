"""Figures at scale (issue 12, point 4): many applications waiting at once, a full day's bank
statement, and more than one worker and API process. A benchmark: it prints figures with the
machine line and asserts no time; the correctness checks it makes (every renewal completed, no
double allocation, gap-free receipts) set the exit status.

    .venv/bin/python -m bench.scale reconcile [--transactions 100000]     # make bench-scale runs all three
    .venv/bin/python -m bench.scale awaiting  [--applications 10000]
    .venv/bin/python -m bench.scale processes [--renewals 200] [--database-url postgresql+asyncpg://…/]

reconcile   one Vietnam day with N settled bank transactions: the bank simulator's statement
            filled with N transactions of the day, the BHXH database with the matching payments
            (plus a few lost callbacks, refunds due and amounts that differ), then
            `starter.py reconcile --date D` as its own process: wall time and peak resident
            memory, at N/10 and at N (bounded memory: the same peak at both).
awaiting    N applications declared (16 in flight) and left awaiting payment: time to declare
            them; then, while they all wait, the quote one at a time (p50/p99); worker and
            Temporal server resident memory and the Temporal database's size; then all paid at
            once: completion rate and time until the last receipt.
processes   on PostgreSQL: the full renewal (declare → pay → completed, 16 in flight) with one
            worker and one API, then again with two of each (declarations alternate between the
            APIs): renewals/s per process count, and the checks: every renewal completed, no card,
            payment or application allocated twice, receipt numbers gap-free.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from adapters.db import Database, migrate_async
from adapters.db.orm import ApplicationRow, BankPaymentRow
from bench.driver import POOL, Application, Bench
from bench.figures import latency_row, log, rate, settle
from bench.floor import machine_line
from bench.households import check, declarations, generate
from bench.renewals import create_postgres, drop_postgres
from domain.application import VIETNAM_TZ, vietnam_date
from scripts.stack import Stack, StackError
from scripts.supervisor import LOCALHOST, free_port, http_ok, spawn, wait_until
from simulators.bank.store import BankStore

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
TMN = "BHXHDEV1"


# ---- memory -------------------------------------------------------------------------------------


def rss_by_group(groups: dict[int, str]) -> dict[str, int]:
    """Resident memory (bytes) of every live process of each process group (a component and its
    children)."""
    used = dict.fromkeys(groups.values(), 0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        pgid = int(stat[stat.rindex(")") + 2 :].split()[2])
        if pgid in groups:
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    used[groups[pgid]] += int(line.split()[1]) * 1024
    return used


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:.0f} MiB"


def stack_memory(stack: Stack) -> str:
    procs = stack.processes()
    rss = rss_by_group({p.popen.pid: p.name for p in procs})
    return ", ".join(f"{name} {mib(v)}" for name, v in rss.items() if name in ("temporal", "worker", "api"))


def temporal_db_size(stack: Stack) -> str:
    files = list(stack.var_dir.glob("temporal.db*"))
    return f"{mib(sum(f.stat().st_size for f in files))} ({', '.join(f.name for f in files)})"


# ---- reconcile ----------------------------------------------------------------------------------


def fill_bank_day(path: Path, day: date, count: int, *, first: int = 0) -> list[tuple[str, str, int]]:
    """`count` settled transactions of `day` in the bank simulator's own file, straight into its
    tables (the benchmark measures the reconciliation, not 100,000 pay calls). Returns
    (bank_tran_no, txn_ref, amount) of each."""
    BankStore(path)
    rows = []
    pay_date = datetime.combine(day, datetime.min.time(), tzinfo=VIETNAM_TZ) + timedelta(hours=9)
    with sqlite3.connect(path) as db:
        orders, transactions = [], []
        for i in range(first, first + count):
            txn_ref, bank_tran_no, amount = (
                f"S{i:09d}",
                f"VNP{i * 7919 % 10**9:09d}",
                100_000 + (i % 7) * 10_000,
            )
            rows.append((bank_tran_no, txn_ref, amount))
            orders.append(
                (txn_ref, TMN, amount, "BHYT", "http://127.0.0.1:1/ipn", "paid", day.isoformat(), None)
            )
            transactions.append(
                (str(20_000_000 + i), txn_ref, amount, "NCB", bank_tran_no, "ATM", pay_date.isoformat(),
                 day.isoformat(), "00", "00", "delivered")
            )  # fmt: skip
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?)", orders)
        db.executemany(
            "INSERT INTO transactions (transaction_no, txn_ref, amount, bank_code, bank_tran_no, card_type,"
            " pay_date, pay_day, response_code, transaction_status, ipn_state) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            transactions,
        )
    return rows


async def fill_our_day(url: str, day: date, bank_rows: list[tuple[str, str, int]], first: int) -> None:
    """What we recorded of those transactions: most allocated to completed applications; every
    500th callback lost (not_received), every 700th for an expired application (refund_due), every
    900th allocated with another amount (amount_differs)."""
    pay_date = datetime.combine(day, datetime.min.time(), tzinfo=VIETNAM_TZ) + timedelta(hours=9)
    now = datetime.now(UTC)
    payment_columns = set(BankPaymentRow.__table__.c.keys())
    payments, applications = [], []
    for i, (bank_tran_no, txn_ref, amount) in enumerate(bank_rows, start=first):
        if i % 500 == 499:
            continue
        expired = i % 700 == 699
        differs = i % 900 == 899 and not expired
        application_id = f"APP{i:09d}"
        applications.append(
            dict(application_id=application_id, status="expired" if expired else "completed", member_count=3,
                 txn_ref=txn_ref, amount=amount, created_at=now, updated_at=now)
        )  # fmt: skip
        row: dict[str, Any] = dict(
            bank_tran_no=bank_tran_no, transaction_no=str(20_000_000 + i), txn_ref=txn_ref,
            application_id=application_id, amount=amount + (1000 if differs else 0), bank_code="NCB",
            pay_date=pay_date, response_code="00", transaction_status="00", is_paid=True, outcome="confirmed",
            raw={}, duplicate_count=0, received_at=now, last_seen_at=now,
            allocated_application_id=None if expired else application_id, allocated_at=None if expired else now,
        )  # fmt: skip
        if "payment_key" in payment_columns:  # keyed by the bank's transaction identity since issue 10
            row["payment_key"] = f"TN:{row['transaction_no']}"
        payments.append(row)
    db = Database(url)
    try:
        for start in range(0, len(payments), 5000):
            async with db.unit_of_work() as uow:
                await uow.session.execute(insert(ApplicationRow), applications[start : start + 5000])
                await uow.session.execute(insert(BankPaymentRow), payments[start : start + 5000])
                await uow.commit()
    finally:
        await db.dispose()


def run_reconcile(env: dict[str, str], day: date) -> tuple[float, int, int, str]:
    """`starter.py reconcile` as its own process: wall seconds, peak RSS (bytes), exit code, output.

    The peak is the child's own high-water mark (VmHWM, which exec resets), read every 20 ms until
    it exits: the rusage of a child also counts the parent's pages it shared before exec."""
    t0 = time.perf_counter()
    out_path = Path(tempfile.mkstemp(prefix="reconcile-", suffix=".out")[1])
    with out_path.open("wb") as out_file:
        proc = subprocess.Popen(
            [sys.executable, "starter.py", "reconcile", "--date", day.isoformat()],
            cwd=ROOT, env={**os.environ, **env}, stdout=out_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        peak = 0
        status = Path(f"/proc/{proc.pid}/status")
        while proc.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:") and "python" in (status.parent / "cmdline").read_text():
                        peak = max(peak, int(line.split()[1]) * 1024)
            except OSError:
                pass
            time.sleep(0.02)
    wall = time.perf_counter() - t0
    out = out_path.read_text(errors="replace")
    out_path.unlink()
    return wall, peak, proc.returncode, out


def scale_reconcile(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bhyt-scale-reconcile-"))
    day = date(2026, 3, 2)
    pg: tuple[str, str] | None = None
    bank = None
    try:
        url = args.database_url
        if url and make_url(url).get_backend_name() == "postgresql":
            pg = asyncio.run(create_postgres(url))
            url = pg[0]
        url = url or f"sqlite+aiosqlite:///{tmp / 'bhyt.db'}"
        asyncio.run(migrate_async(url))
        port = free_port()
        bank_db = tmp / "bank.db"
        sizes = sorted({max(1, args.transactions // 10), args.transactions})
        filled = 0
        env = {"DATABASE_URL": url, "BANK_URL": f"http://{LOCALHOST}:{port}", "BHYT_TMN_CODE": TMN}
        rows_out = []
        for size in sizes:
            log(f"reconcile: filling the bank and the BHXH database up to {size} transactions")
            t0 = time.perf_counter()
            rows = fill_bank_day(bank_db, day, size - filled, first=filled)
            asyncio.run(fill_our_day(url, day, rows, filled))
            del rows
            filled = size
            fill_s = time.perf_counter() - t0
            if bank is None:
                bank = spawn(
                    "bank",
                    [sys.executable, "-m", "simulators.bank", "--host", LOCALHOST, "--port", str(port),
                     "--db", str(bank_db)],
                    log_path=tmp / "bank.log", env={**os.environ, **env}, cwd=ROOT,
                )  # fmt: skip
                wait_until(lambda: http_ok(env["BANK_URL"] + "/health"), timeout=60, what="bank up")
            log(f"reconcile: starter.py reconcile --date {day} over {size} transactions")
            wall, peak, code, out = run_reconcile(env, day)
            found = {
                k: int(line.split()[-1])
                for line in out.splitlines()
                for k in ("not_received", "refund_due", "amount_differs", "matched")
                if line.strip().startswith(k + " ")
            }
            rows_out.append((size, wall, peak, code, found, fill_s))
        print()
        print(machine_line())
        print(f"database: {make_url(url).get_backend_name()}; bank statement pages of 5000; day {day}")
        print(f"{'bank transactions':>18} {'reconcile':>10} {'peak RSS':>9} {'exit':>4}  findings")
        for size, wall, peak, code, found, _fill in rows_out:
            print(f"{size:>18,} {wall:>9.2f}s {mib(peak):>9} {code:>4}  {found}")
        if len(rows_out) == 2:
            grew = rows_out[1][2] - rows_out[0][2]
            print(f"peak memory at {rows_out[1][0]:,} minus at {rows_out[0][0]:,}: {mib(grew)} "
                  f"for {rows_out[1][0] - rows_out[0][0]:,} more transactions")  # fmt: skip
        planted = expected_totals(filled)
        ok = all(rows_out[-1][4].get(k) == v for k, v in planted.items())
        print(f"findings as planted: {'yes' if ok else 'NO'} (planted at {filled:,}: {planted})")
        return 0 if ok else 1
    finally:
        if bank is not None:
            bank.stop()
        if pg is not None:
            asyncio.run(drop_postgres(pg[0], pg[1]))
        shutil.rmtree(tmp, ignore_errors=True)


def expected_totals(n: int) -> dict[str, int]:
    lost = sum(1 for i in range(n) if i % 500 == 499)
    expired = sum(1 for i in range(n) if i % 500 != 499 and i % 700 == 699)
    differs = sum(1 for i in range(n) if i % 500 != 499 and i % 700 != 699 and i % 900 == 899)
    return {"not_received": lost, "refund_due": expired, "amount_differs": differs}


# ---- the stack at scale -------------------------------------------------------------------------


def start_stack(
    args: argparse.Namespace, households: int, tmp: Path, database_url: str | None
) -> tuple[Stack, list]:
    today = vietnam_date(datetime.now(UTC))
    log(f"generating {households} households")
    data = generate(households, today=today)
    decls = declarations(data)
    check(data, decls, today=today)
    data_file = tmp / "households.json"
    data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    extra = {}
    if args.cached_workflows:
        extra["WORKER_MAX_CACHED_WORKFLOWS"] = str(args.cached_workflows)
    stack = Stack.on_free_ports(
        tmp / "var", seed=data_file, database_url=database_url, extra_env=extra, progress=log
    )
    log(f"starting the stack in {tmp / 'var'}")
    stack.start()
    return stack, decls


async def drive_awaiting(args: argparse.Namespace, stack: Stack, decls: list) -> int:
    n, q = args.applications, args.quotes
    bench = Bench(stack, decls)
    try:
        await settle(bench.meter)
        bench.meter.mark("0. start-up")
        mem_idle = stack_memory(stack)
        apps = await bench.phase_concurrent(range(0, n), args.concurrency)
        declare_wall = bench.results.concurrent_wall
        await settle(bench.meter)
        mem_waiting, db_waiting = stack_memory(stack), temporal_db_size(stack)
        quoted = await bench.phase_sequential(range(n, n + q))
        waiting = [a for a in apps + quoted if a.txn_ref and not a.error]
        await bench.phase_pay_all(
            waiting, within=max(300.0, n * 0.5), stall=120, concurrency=args.pay_concurrency
        )
        mem_after, db_after = stack_memory(stack), temporal_db_size(stack)
        statuses = await bench.final_statuses()
        r = bench.results
        print()
        print(machine_line())
        print(f"worker: max cached workflows {stack.settings.worker_max_cached_workflows}; database: "
              f"{make_url(stack.settings.database_url).get_backend_name()}")  # fmt: skip
        print(
            f"declared {n} ({args.concurrency} in flight)      {rate(len(r.concurrent), declare_wall).replace('renewals', 'quotes')}"
        )
        print(f"   their POST /renewals                 {latency_row(r.concurrent)}")
        print(f"quote 1 at a time while {n} wait       {latency_row(r.sequential)}")
        print(f"resident memory idle                    {mem_idle}")
        print(f"resident memory, {n} waiting           {mem_waiting}")
        print(f"Temporal database, {n} waiting         {db_waiting}")
        print(f"pay all {r.pay_count} ({args.pay_concurrency} at a time) → completed         "
              + (rate(r.pay_completed, r.pay_to_done_wall) if r.pay_to_done_wall else f"{r.pay_completed}/{r.pay_count} completed"))  # fmt: skip
        print(
            f"   time until the last receipt          {r.pay_to_done_wall or float('nan'):.1f} s after the first pay call"
        )
        print(f"   each: pay sent → completed           {latency_row(r.pay_to_done_lat)}")
        print(f"resident memory after                   {mem_after}")
        print(f"Temporal database after                 {db_after}")
        print(f"final status                            {dict(statuses.most_common())}")
        print("\nCPU seconds by component:")
        print(bench.meter.table())
        return 0 if statuses.get("completed", 0) == len(waiting) else 1
    finally:
        await bench.close()


def scale_awaiting(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bhyt-scale-awaiting-"))
    code = 2
    try:
        try:
            stack, decls = start_stack(args, args.applications + args.quotes, tmp, None)
        except StackError as exc:
            print(f"the stack did not start: {exc}")
            return 2
        try:
            code = asyncio.run(drive_awaiting(args, stack, decls))
            return code
        finally:
            stack.stop()
    finally:
        if code == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept {tmp}")


class TwoApis(Bench):
    """Declarations alternate between the API processes; the rest as the renewal bench drives it."""

    def __init__(self, stack: Stack, decls: list, api_urls: list[str]) -> None:
        super().__init__(stack, decls)
        headers = {"Authorization": f"Bearer {stack.settings.bhyt_api_token}"}
        self.apis = [self.api] + [
            httpx.AsyncClient(base_url=u, headers=headers, timeout=60, limits=POOL) for u in api_urls
        ]

    async def declare(self, household: int) -> tuple[Application, float]:
        # Bench.declare reads self.api before its first await: choosing it here is safe under concurrency
        self.api = self.apis[household % len(self.apis)]
        return await super().declare(household)

    async def close(self) -> None:
        for client in self.apis[1:]:
            await client.aclose()
        self.api = self.apis[0]
        await super().close()


CHECKS = {
    "cards extended twice by one application": "SELECT count(*) FROM (SELECT bhxh_number, application_id "
    "FROM validity_history GROUP BY bhxh_number, application_id HAVING count(*) > 1) x",
    "allocation lines twice for one card and application": "SELECT count(*) FROM (SELECT bhxh_number, "
    "application_id FROM allocations GROUP BY bhxh_number, application_id HAVING count(*) > 1) x",
    "payments allocated to two applications": "SELECT count(*) FROM (SELECT payment_id FROM allocations "
    "GROUP BY payment_id HAVING count(DISTINCT application_id) > 1) x",
    "applications with two receipts": "SELECT count(*) FROM (SELECT application_id FROM receipts "
    "GROUP BY application_id HAVING count(*) > 1) x",
    "receipt numbers missing or repeated": "SELECT coalesce(sum(max_n - min_n + 1 - n) + sum(n - distinct_n) "
    "+ sum(CASE WHEN min_n = 1 THEN 0 ELSE 1 END), 0) FROM (SELECT series, year, max(number) AS max_n, "
    "min(number) AS min_n, count(*) AS n, count(DISTINCT number) AS distinct_n FROM receipts "
    "GROUP BY series, year) x",
}


async def drive_processes(args: argparse.Namespace, stack: Stack, decls: list) -> int:
    m, c = args.renewals, args.concurrency
    results = []
    bench = Bench(stack, decls)
    try:
        await settle(bench.meter)
        await bench.phase_full(range(0, m), c, within=300)
        results.append(("1 worker + 1 API", bench.results.full_completed, bench.results.full_wall))
        one = await bench.final_statuses()
    finally:
        await bench.close()
    log("adding a second worker and a second API")
    stack.add_worker("worker2")
    api2 = stack.add_api("api2", free_port())
    two = TwoApis(stack, decls, [api2])
    try:
        await settle(two.meter)
        await two.phase_full(range(m, 2 * m), c, within=300)
        results.append(("2 workers + 2 APIs", two.results.full_completed, two.results.full_wall))
        both = await two.final_statuses()
        db = Database(stack.settings.database_url)
        try:
            async with db.unit_of_work(read_only=True) as uow:
                found = {name: int(await uow.session.scalar(text(sql)) or 0) for name, sql in CHECKS.items()}
                receipts = int(await uow.session.scalar(text("SELECT count(*) FROM receipts")) or 0)
        finally:
            await db.dispose()
        print()
        print(machine_line())
        print(f"database: PostgreSQL; {c} renewals in flight; IPN to the first API")
        for label, done, wall in results:
            print(f"  {label:<22} {rate(done, wall)}")
        print(f"  final status: 1+1 {dict(one.most_common())}; 2+2 {dict(both.most_common())}")
        print(f"  receipts issued: {receipts}")
        for name, count in found.items():
            print(f"  {name:<52} {count}")
        print("\nCPU seconds by component (2 + 2):")
        print(two.meter.table())
        ok = not any(found.values()) and receipts == 2 * m
        ok = ok and one.get("completed", 0) == m and both.get("completed", 0) == m
        return 0 if ok else 1
    finally:
        await two.close()


def scale_processes(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bhyt-scale-processes-"))
    pg = asyncio.run(create_postgres(args.database_url or DEFAULT_POSTGRES))
    code = 2
    try:
        try:
            stack, decls = start_stack(args, 2 * args.renewals, tmp, pg[0])
        except StackError as exc:
            print(f"the stack did not start: {exc}")
            return 2
        try:
            code = asyncio.run(drive_processes(args, stack, decls))
            return code
        finally:
            stack.stop()
    finally:
        asyncio.run(drop_postgres(pg[0], pg[1]))
        if code == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept {tmp}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="figure", required=True)
    r = sub.add_parser("reconcile", help="a day of bank transactions")
    r.add_argument("--transactions", type=int, default=100_000)
    r.add_argument(
        "--database-url", default=None, help="default SQLite; postgresql+asyncpg://…/ for a fresh PG db"
    )
    a = sub.add_parser("awaiting", help="applications awaiting payment at once")
    a.add_argument("--applications", type=int, default=10_000)
    a.add_argument("--concurrency", type=int, default=16)
    a.add_argument("--quotes", type=int, default=50, help="quotes one at a time while they wait (50)")
    a.add_argument("--cached-workflows", type=int, default=None, help="WORKER_MAX_CACHED_WORKFLOWS")
    a.add_argument(
        "--pay-concurrency",
        type=int,
        default=50,
        help="pay calls at a time (50): all at once, the bank simulator's IPN client times out",
    )
    w = sub.add_parser("processes", help="two workers and two APIs on PostgreSQL")
    w.add_argument("--renewals", type=int, default=200, help="full renewals per process count (200)")
    w.add_argument("--concurrency", type=int, default=16)
    w.add_argument("--database-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    w.add_argument("--cached-workflows", type=int, default=None)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    log(f"load average before: {load}")
    code = {"reconcile": scale_reconcile, "awaiting": scale_awaiting, "processes": scale_processes}[
        args.figure
    ](args)
    print(f"load average before {load}, after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
