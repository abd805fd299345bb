"""The figures a benchmark run measures: latency percentiles, rates, CPU seconds per component
of the stack (from /proc, by process group), and waiting until the machine is quiet."""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scripts.stack import Stack


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
        procs = stack.processes()
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


def rate(count: int, seconds: float | None) -> str:
    if not seconds or not count:
        return "n/a"
    return f"{count / seconds:6.1f} renewals/s  ({count} in {seconds:.2f} s)"
