"""Bring the BHXH database schema to head (Alembic), for the stack and the compose `migrate` job.

A separate process, not a call inside the stack runner, so that the stack and the container run
exactly the same thing and a failure lands in its own log.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> int:
    from adapters.db import migrate
    from config import get_settings
    from logs import configure_logging

    configure_logging("migrate")
    result = migrate(get_settings().database_url)
    if inspect.isawaitable(result):  # whichever the adapter chose, sync or async
        asyncio.run(result)
    print("database schema at head")
    return 0


if __name__ == "__main__":
    sys.exit(main())
