"""How the renewal calls its activities, and reads their failures (codes only, no personal data)."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.settings import UNTIL_DONE


async def until_done(activity: Any, arg: Any, summary: str) -> Any:
    """An activity once money may have arrived: retried until done (workflows.settings)."""
    return await workflow.execute_activity_method(activity, arg, summary=summary, **UNTIL_DONE)


async def local(activity: Any, arg: Any, summary: str, options: dict[str, Any]) -> Any:
    """A short step before the quote, as a local activity (in the workflow task)."""
    try:
        return await workflow.execute_local_activity_method(activity, arg, summary=summary, **options)
    except ApplicationError as err:
        # the SDK hands a local activity's failure over unwrapped: wrap it as a regular
        # activity's is, so each step reads its error the same way (cause, error_type)
        raise ActivityError(
            f"local activity failed: {summary}",
            scheduled_event_id=0,
            started_event_id=0,
            identity="",
            activity_type=summary,
            activity_id="",
            retry_state=None,
        ) from err


def cause(err: ActivityError) -> str:
    inner = err.cause
    if isinstance(inner, ApplicationError):
        return inner.message
    return type(inner).__name__ if inner else "activity failed"


def error_type(err: ActivityError) -> str | None:
    inner = err.cause
    return inner.type if isinstance(inner, ApplicationError) else None
