"""Container healthchecks for the project image (python:3.11-slim has neither curl nor wget).

    python -m scripts.healthcheck http http://127.0.0.1:8000/health
    python -m scripts.healthcheck worker

The worker serves no HTTP, so "healthy" means what matters: the Temporal server has seen this
container poll the task queue recently. The SDK's default identity is `<pid>@<hostname>` and a
container's hostname is its id, so other replicas don't make this one look healthy.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.stack import task_queue_pollers  # noqa: E402
from scripts.supervisor import http_ok, rfc3339  # noqa: E402

RECENT_SECONDS = 150
"""An idle worker's long poll returns about every 60-70 s and starts again; allow two rounds."""


def worker_healthy() -> bool:
    from config import get_settings

    s = get_settings()
    host = socket.gethostname()
    now = time.time()
    return any(
        str(p.get("identity", "")).endswith(f"@{host}")
        and now - rfc3339(p.get("lastAccessTime", "")) < RECENT_SECONDS
        for p in task_queue_pollers(s.temporal_address, s.temporal_namespace, s.temporal_task_queue)
    )


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "http":
        return 0 if http_ok(argv[1]) else 1
    if argv == ["worker"]:
        return 0 if worker_healthy() else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
