"""The database fixtures: every test here runs once on SQLite and once on PostgreSQL.

PostgreSQL: TEST_POSTGRES_URL (default: postgres, then root, on 127.0.0.1:5432, database
`test`). Each session creates its own database `bhyt_test_<random>` and drops it afterwards,
so parallel runs never collide. Without a server the PostgreSQL half skips locally and fails
when CI is set: CI must prove the production database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.db import Database, migrate_async
from adapters.db.orm import Base

PG_CANDIDATES = [
    os.environ.get("TEST_POSTGRES_URL", ""),
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
]


async def _pg_admin() -> tuple[asyncpg.Connection, str]:
    errors = []
    for url in filter(None, PG_CANDIDATES):
        try:
            conn = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            errors.append(type(exc).__name__)
            continue
        return conn, url
    reason = f"PostgreSQL unreachable at 127.0.0.1:5432 ({', '.join(errors)}); set TEST_POSTGRES_URL"
    if os.environ.get("CI"):
        pytest.fail(reason + " — CI requires PostgreSQL", pytrace=False)
    pytest.skip(reason)


class PostgresDatabases:
    """Creates throwaway databases through an admin connection, and drops them at the end."""

    def __init__(self, admin: asyncpg.Connection, url: str) -> None:
        self.admin, self.url, self.created = admin, url, []

    async def create(self) -> str:
        name = f"bhyt_test_{uuid.uuid4().hex[:12]}"
        await self.admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        for name in self.created:
            await self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await self.admin.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def fresh_url_factory(request, tmp_path_factory):
    """A factory of empty databases of one backend (the param)."""
    if request.param == "sqlite":
        base: Path = tmp_path_factory.mktemp("sqlite")

        async def sqlite_url() -> str:
            return f"sqlite:///{base / (uuid.uuid4().hex + '.db')}"

        yield sqlite_url
        return
    admin, url = await _pg_admin()
    databases = PostgresDatabases(admin, url)
    try:
        yield databases.create
    finally:
        await databases.drop_all()


@pytest.fixture(scope="session")
async def database_url(fresh_url_factory) -> str:
    url = await fresh_url_factory()
    await migrate_async(url)
    return url


@pytest.fixture(scope="session")
async def session_db(database_url) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def db(session_db: Database) -> AsyncIterator[Database]:
    """The migrated database, emptied after each test so every test starts from no rows."""
    yield session_db
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with session_db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))
