"""Unexpected exceptions leave an activity without their message: it may carry personal data.

A database driver's error quotes the row it refused (a personal number in a unique-key
violation, a declaration in the SQL parameters), an HTTP library's error may quote a body.
Temporal stores an activity's failure message and stack trace in the history (the UI shows
it) and the SDK logs it. So every exception not written by this project is replaced, at the
activity boundary, by an ApplicationError carrying only its type names and the activity, and
logged the same way; the type is kept as the error type, so retry policies that name types
(`non_retryable_error_types`) still apply. The project's own exceptions (activities.errors,
adapters/*/errors, domain) are written to carry codes and identifiers only and pass unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

log = logging.getLogger("bhyt.activities")

OWN_PACKAGES = frozenset({"activities", "adapters", "domain", "workflows"})
"""Exceptions defined here have curated messages (no personal data)."""


def _own(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in OWN_PACKAGES


def exception_chain(exc: BaseException) -> str:
    """`IntegrityError ← sqlite3.IntegrityError`: the types along the cause chain, never a message."""
    names = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(names) < 5:
        seen.add(id(current))
        names.append(f"{type(current).__module__}.{type(current).__qualname__}")
        current = current.__cause__ or current.__context__
    return " ← ".join(names)


def scrubbed(exc: BaseException, activity_name: str) -> ApplicationError:
    """The ApplicationError that replaces a foreign exception: type names only, retryable."""
    return ApplicationError(
        f"in activity {activity_name} (message withheld: it may carry personal data;"
        f" cause: {exception_chain(exc)})",
        type=type(exc).__name__,
    )


class _Inbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except (ApplicationError, CancelledError, asyncio.CancelledError):
            raise
        except Exception as exc:
            if _own(exc):
                raise
            info = activity.info()
            log.warning(
                "activity %s attempt %d of workflow %s failed: %s",
                info.activity_type,
                info.attempt,
                info.workflow_id,
                exception_chain(exc),
            )
            raise scrubbed(exc, info.activity_type) from None


class SafeErrorsInterceptor(Interceptor):
    """Worker interceptor: `Worker(..., interceptors=[SafeErrorsInterceptor()])`."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next)
