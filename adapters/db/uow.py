"""The unit of work and the `Database` object the worker builds once and hands to the activities.

One unit of work is one transaction: `async with db.unit_of_work() as uow: ...; await
uow.commit()`; leaving the block without committing rolls back, so an exception half-way
through an activity leaves nothing behind for the retry to trip over. Do not open a writing
unit of work inside another in the same task: on SQLite the inner one would wait for the outer
one's write lock forever.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.db.engine import SQLITE_BEGIN_OPTION, make_engine
from adapters.db.repository import Repository


class UnitOfWork:
    repo: Repository

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], writer_gate: asyncio.Lock | None = None
    ) -> None:
        self._sessions = sessions
        self._gate = writer_gate
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is used outside its `async with` block")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        if self._gate is not None:
            await self._gate.acquire()
        self._session = self._sessions()
        self.repo = Repository(self._session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() rolls back whatever was not committed without expiring loaded rows, so
        # objects read in the block stay readable after it
        try:
            await self.session.close()
        finally:
            self._session = None
            if self._gate is not None:
                self._gate.release()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class Database:
    """The engine and session factories; build one per process and dispose of it at shutdown."""

    def __init__(self, url: str | None = None, *, engine: AsyncEngine | None = None) -> None:
        if engine is None:
            if url is None:
                raise ValueError("give a database URL or an engine")
            engine = make_engine(url)
        self.engine = engine
        self._writes = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
        # On SQLite a read-only transaction starts with a deferred BEGIN: in WAL mode it then
        # never waits for a writer. PostgreSQL ignores the option.
        self._reads = async_sessionmaker(
            engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"}), expire_on_commit=False
        )
        # SQLite admits one writer at a time; writers of this process queue here in FIFO order
        # instead of polling the file lock (whose busy handler sleeps and starves unlucky
        # writers: seconds of tail latency under load). Other processes still meet the busy timeout.
        self._writer_gate = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def from_engine(cls, engine: AsyncEngine) -> Database:
        return cls(engine=engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """`read_only=True` for look-ups: they must not queue behind SQLite's write lock."""
        if read_only:
            return UnitOfWork(self._reads)
        return UnitOfWork(self._writes, self._writer_gate)

    async def dispose(self) -> None:
        await self.engine.dispose()
