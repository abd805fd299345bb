"""Alembic environment: async engines for both databases, or a connection handed in by the service.

`adapters.db.migrate` passes its own connection (config.attributes["connection"]) so the
migration runs inside the transaction and advisory lock it opened. The `alembic` command line
builds an engine from `-x url=...`, else from DATABASE_URL through config.Settings.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from adapters.db.engine import async_url, make_engine
from adapters.db.orm import Base

alembic_config = context.config
if alembic_config.config_file_name is not None and "connection" not in alembic_config.attributes:
    fileConfig(alembic_config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or alembic_config.attributes.get(
        "database_url"
    )
    if not url:
        from config import get_settings

        url = get_settings().database_url
    return async_url(url)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_database_url())
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242004201)")
            await conn.run_sync(_configure)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = alembic_config.attributes.get("connection")
    if connection is None:
        asyncio.run(_run_async())
    else:
        _configure(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
