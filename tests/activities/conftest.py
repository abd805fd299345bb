from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.db import Database, migrate_async


@pytest.fixture(scope="module")
async def db(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    path: Path = tmp_path_factory.mktemp("refunds") / "bhyt.db"
    url = f"sqlite+aiosqlite:///{path}"
    await migrate_async(url)
    database = Database(url)
    yield database
    await database.dispose()
