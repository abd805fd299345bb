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
Split in three: bench/driver.py (what is driven), bench/figures.py (what is measured),
bench/report.py (what is printed); this module only sets up, runs the phases and cleans up.
Traffic goes to 127.0.0.1 only. A benchmark, not a test: nothing here asserts a time.

    .venv/bin/python -m bench.renewals                       # SQLite, defaults below
    .venv/bin/python -m bench.renewals --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.driver import Bench
from bench.figures import (
    log,
    settle,
)
from bench.households import check, declarations, generate
from bench.report import scan_logs, summary
from domain.application import vietnam_date
from scripts.stack import Stack, StackError

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


async def drive(
    args: argparse.Namespace,
    stack: Stack,
    decls: list[dict[str, Any]],
    db_label: str,
    bench: Bench | None = None,
) -> int:
    bench = bench or Bench(stack, decls)
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
    return run(parse_args(argv))[0]


def run(
    args: argparse.Namespace, on_started: Callable[[Stack], Any] | None = None
) -> tuple[int, Bench | None]:
    """The whole benchmark; returns the exit status and the driver, whose `results` hold the
    figures (bench/floor.py puts them beside the engine's floor). `on_started(stack)` runs once
    the stack is up (the floor attaches its profilers there)."""
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
            return 2, None
        try:
            if on_started is not None:
                on_started(stack)
            bench = Bench(stack, decls)
            code = asyncio.run(drive(args, stack, decls, db_label, bench))
            return code, bench
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
