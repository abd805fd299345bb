"""The BHXH database: schema, migrations and the transactions the procedure needs (steps 2b-5).

Async SQLAlchemy throughout (asyncpg on PostgreSQL, aiosqlite on SQLite) because every activity
is async; one style, no thread pool. `Database` is what the worker builds; activities open a
unit of work per transaction and call the repository's methods; step 4's transaction is
`adapters.db.allocate.allocate(db, request)`.
"""

from adapters.db.engine import async_url, make_engine, migrate, migrate_async
from adapters.db.errors import (
    AllocationError,
    PaymentAlreadyAllocatedError,
    PaymentMismatchError,
    UnknownParticipantError,
)
from adapters.db.records import (
    AllocationRequest,
    AllocationResult,
    ApplicationRecord,
    ContributionIn,
    LoadSummary,
)
from adapters.db.repository import Repository
from adapters.db.uow import Database, UnitOfWork

__all__ = [
    "AllocationError",
    "AllocationRequest",
    "AllocationResult",
    "ApplicationRecord",
    "ContributionIn",
    "Database",
    "LoadSummary",
    "PaymentAlreadyAllocatedError",
    "PaymentMismatchError",
    "Repository",
    "UnitOfWork",
    "UnknownParticipantError",
    "async_url",
    "make_engine",
    "migrate",
    "migrate_async",
]
