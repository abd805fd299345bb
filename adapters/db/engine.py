"""Engines and migrations for the two databases the service runs on.

SQLite (the embedded default) and PostgreSQL (production) get one async engine each, built the
same way, so that the code above never asks which one it talks to. On SQLite the sqlite3
driver's own transaction handling is switched off (`isolation_level = None`) and every
transaction is opened by us with BEGIN IMMEDIATE: a writer takes the write lock at the start,
so concurrent writers queue on the busy timeout instead of failing halfway with "database is
locked" when a read lock cannot be upgraded. Read-only units of work opt out with the
`sqlite_begin` execution option and start a plain deferred BEGIN, so in WAL mode they never
wait for writers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "alembic.ini"
MIGRATIONS = ROOT / "migrations"

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_BEGIN_OPTION = "sqlite_begin"
"""Execution option naming the BEGIN flavour on SQLite: "IMMEDIATE" (default) or "DEFERRED"."""


def async_url(url: str) -> str:
    """The async-driver form of a database URL, so configuration may use the plain forms."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgresql" and driver != "asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite" and driver != "aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`, with the SQLite settings that make concurrent writers safe."""
    url = async_url(url)
    # SQL parameters hold names and personal numbers: never in an error message or a log line
    kwargs.setdefault("hide_parameters", True)
    if not url.startswith("sqlite"):
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)

    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # hand transaction control to SQLAlchemy (see the module docstring)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    return engine


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # kept out of the ini options: '%' in a password would be read as interpolation
        cfg.attributes["database_url"] = async_url(url)
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def migrate_async(url: str, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision` (all of them by default)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # a batch migration rebuilds a table (copy, drop, rename); with foreign keys on, the
                # drop fails once other tables reference its rows. The pragma is a no-op inside a
                # transaction, so it is set on the raw connection before BEGIN (Alembic's recipe)
                # and checked before commit.
                raw = (await conn.get_raw_connection()).driver_connection
                await raw.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            async with conn.begin():
                if conn.dialect.name == "postgresql":
                    # two processes starting together (worker, API) must not migrate at once
                    await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242004201)")
                await conn.run_sync(_upgrade, revision)
                if sqlite and (await conn.exec_driver_sql("PRAGMA foreign_key_check")).first():
                    raise RuntimeError("the migration left rows that violate a foreign key")
            if sqlite:
                await raw.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    finally:
        await engine.dispose()


def migrate(url: str, revision: str = "head") -> None:
    """Synchronous `migrate_async`; safe to call from inside a running event loop (uses a thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(migrate_async(url, revision))
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, migrate_async(url, revision)).result()
