"""The benchmark report: the summary table, the machine it ran on, and what the logs show."""

from __future__ import annotations

import argparse
import os
import platform
import re
from collections import Counter
from pathlib import Path

from bench.driver import Bench
from bench.figures import (
    latency_row,
    rate,
)
from scripts.stack import Stack

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
