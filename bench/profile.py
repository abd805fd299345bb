"""Where a process's CPU went, from a py-spy profile in collapsed-stack form (`--format raw`).

Every sample is one stack, innermost frame last. Each sample is charged to one *component* by
its innermost frame that belongs to a known one (so time inside pydantic called by the
converter counts as pydantic), and, inclusively, to each project activity on its stack. Idle
time is not sampled (py-spy skips idle threads), so the shares are of busy CPU.

    .venv/bin/python -m bench.profile var/profiles/sqlite-worker.txt
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

COMPONENTS: list[tuple[str, re.Pattern[str]]] = [
    ("payload codec (AES-GCM)", re.compile(r"temporal_payloads\.py|cryptography/")),
    (
        "payload conversion (temporalio converter)",
        re.compile(r"temporalio/converter\.py|temporalio/contrib/pydantic"),
    ),
    ("pydantic", re.compile(r"pydantic(_core)?/")),
    ("protobuf", re.compile(r"google/protobuf|_pb2\.py")),
    ("workflow sandbox", re.compile(r"temporalio/worker/workflow_sandbox/")),
    ("workflow code (workflows/)", re.compile(r"\bworkflows/renewal\.py")),
    ("workflow instance (temporalio)", re.compile(r"temporalio/worker/_workflow")),
    ("activity worker (temporalio)", re.compile(r"temporalio/worker/_activity")),
    ("temporalio other", re.compile(r"temporalio/")),
    ("SQLAlchemy", re.compile(r"sqlalchemy/")),
    ("aiosqlite/sqlite3", re.compile(r"aiosqlite/|sqlite3/")),
    ("asyncpg", re.compile(r"asyncpg/")),
    ("httpx/httpcore", re.compile(r"httpx/|httpcore/|h11/|anyio/")),
    ("FastAPI/Starlette/uvicorn", re.compile(r"fastapi/|starlette/|uvicorn/")),
    ("project adapters/", re.compile(r"\badapters/")),
    ("project activities/", re.compile(r"\bactivities/")),
    ("project domain/", re.compile(r"\bdomain/")),
    ("project api/", re.compile(r"\bapi/")),
    ("logging", re.compile(r"logging/")),
    ("asyncio event loop", re.compile(r"asyncio/|selectors\.py")),
    ("threads/other stdlib", re.compile(r"threading\.py|concurrent/")),
]

IDLE_LEAF = re.compile(
    r"^(EpollSelector\.select \(selectors\.py|Condition\.wait \(threading\.py|_worker \(concurrent/futures/thread\.py"
    r"|_connection_worker_thread \(aiosqlite/core\.py:59\)|Queue\.get \(queue\.py|Event\.wait \(threading\.py)"
)
"""Innermost frames that are a thread waiting (py-spy's --gil and idle detection miss some of
these on a loaded machine): counted apart, so the shares are of busy samples."""

ACTIVITY = re.compile(r"^(?P<name>\w+) \((?:.*/)?activities/(?P<module>\w+)\.py")


def component(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in COMPONENTS:
            if pattern.search(frame):
                return name
    return "other"


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def summarize(path: Path, top: int = 12) -> str:
    stacks = load(path)
    total = sum(c for _, c in stacks)
    if not total:
        return "  (no samples)"
    by_component: Counter[str] = Counter()
    by_activity: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    idle = sum(c for frames, c in stacks if IDLE_LEAF.match(frames[-1]))
    stacks = [(frames, c) for frames, c in stacks if not IDLE_LEAF.match(frames[-1])]
    busy = total - idle
    if not busy:
        return f"  {total} samples, all waiting"
    for frames, count in stacks:
        by_component[component(frames)] += count
        leaves[frames[-1]] += count
        seen = set()
        for frame in frames:
            m = ACTIVITY.match(frame)
            if m and m["name"] not in seen and not m["name"].startswith("_"):
                seen.add(m["name"])
                by_activity[f"{m['module']}.{m['name']}"] += count
    total = busy
    lines = [f"  {busy} busy samples ({idle} more were threads waiting); by component (innermost known frame):"]
    lines += [f"    {share(n, total)}  {name}" for name, n in by_component.most_common()]
    if by_activity:
        lines.append("  by activity (inclusive):")
        lines += [f"    {share(n, total)}  {name}" for name, n in by_activity.most_common()]
    lines.append(f"  top {top} innermost frames:")
    lines += [f"    {share(n, total)}  {frame[:110]}" for frame, n in leaves.most_common(top)]
    return "\n".join(lines)


def share(n: int, total: int) -> str:
    return f"{n / total * 100:5.1f} %"


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(arg)
        print(summarize(Path(arg)))
