"""Migrations build the schema from nothing, on both databases, and match the ORM models."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from adapters.db import async_url, make_engine, migrate
from adapters.db.engine import alembic_config
from adapters.db.orm import Base


def _diff(connection):
    return compare_metadata(MigrationContext.configure(connection), Base.metadata)


async def test_migrations_up_from_empty_match_the_models(fresh_url_factory):
    url = await fresh_url_factory()
    # the synchronous entry point, called from inside a running event loop, as a worker would
    migrate(url)
    migrate(url)  # a second run finds nothing to do
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            diff = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert version == head
    assert diff == []


async def test_migrate_outside_an_event_loop(fresh_url_factory):
    url = await fresh_url_factory()
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
    finally:
        await engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_async_url_forms():
    assert async_url("postgresql://u:p%40x@h:5432/d") == "postgresql+asyncpg://u:p%40x@h:5432/d"
    assert async_url("postgres://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert async_url("postgresql+psycopg://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert async_url("sqlite:///var/x.db") == "sqlite+aiosqlite:///var/x.db"
    assert async_url("sqlite+aiosqlite:////abs/x.db") == "sqlite+aiosqlite:////abs/x.db"


async def test_sqlite_engine_creates_the_directory_and_uses_wal(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'bhyt.db'}"
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
    finally:
        await engine.dispose()
    assert (tmp_path / "nested" / "dir" / "bhyt.db").exists()
    assert (mode, fks) == ("wal", 1)
