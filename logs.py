"""Logging for every process: one JSON object a line, carrying the application and workflow ids.

Log collectors (Loki, Elasticsearch, CloudWatch) index JSON lines; a grep for one application
must find its lines in the API, the worker and the codec server alike. `application_id` and
`workflow_id` come from the record's extras, or, inside an activity, from the activity's
workflow id (`renewal-<application_id>`). BHYT_LOG_FORMAT=console gives the readable form
`make run` keeps. Loggers that echo SQL parameters at DEBUG (aiosqlite, sqlalchemy.engine) are
held at WARNING whatever the level: their lines would carry personal data. uvicorn's access lines
lose their query string and the path segments that are credentials (a receipt's public code, the
dev codec's token): `GET /receipts/{code}`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from config import get_settings

WORKFLOW_PREFIX = "renewal-"
QUIET = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "httpcore", "asyncpg")


REQUEST_IDS: ContextVar[dict[str, str] | None] = ContextVar("bhyt_log_ids", default=None)
"""Ids of what the current request or task is about (set by api/log_context.py)."""


def _ids(record: logging.LogRecord) -> dict[str, str]:
    ids: dict[str, str] = dict(REQUEST_IDS.get() or {})
    for name in ("application_id", "workflow_id"):
        value = getattr(record, name, None)
        if value:
            ids[name] = str(value)
    for sdk_extra in ("temporal_workflow", "temporal_activity"):  # the Temporal SDK's loggers
        details = getattr(record, sdk_extra, None)
        if isinstance(details, dict) and details.get("workflow_id") and "workflow_id" not in ids:
            ids["workflow_id"] = str(details["workflow_id"])
    if "workflow_id" not in ids:
        try:
            from temporalio import activity

            if activity.in_activity():
                ids["workflow_id"] = activity.info().workflow_id or ""
        except Exception:  # noqa: BLE001 - logging must never fail
            pass
    workflow_id = ids.get("workflow_id", "")
    if "application_id" not in ids and workflow_id.startswith(WORKFLOW_PREFIX):
        ids["application_id"] = workflow_id[len(WORKFLOW_PREFIX) :]
    return {k: v for k, v in ids.items() if v}


SECRET_PATHS = (
    (re.compile(r"^/receipts/[^/?]+"), "/receipts/{code}"),
    (re.compile(r"^/o/[^/?]+"), "/o/{token}"),
)
"""Path segments that are credentials: the receipt's public code (its only key), the dev codec's token."""


def redacted_path(path: str) -> str:
    """The path of an access line without its query string (IPN parameters, lookups' formats) and
    with the credential segments replaced by their names."""
    path = path.split("?", 1)[0]
    for pattern, name in SECRET_PATHS:
        path = pattern.sub(name, path)
    return path


class AccessRedaction(logging.Filter):
    """uvicorn's access lines (`client - "METHOD path HTTP/x" status`) with the path redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redacted_path(args[2]), args[3], args[4])
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "component": self.component,
            "logger": record.name,
            "message": record.getMessage(),
            **_ids(record),
        }
        if record.exc_info and record.exc_info[0] is not None:
            # the type and where, not the message (a driver's message may quote personal data)
            entry["error_type"] = record.exc_info[0].__name__
            entry["error_at"] = [
                f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
                for frame in traceback.extract_tb(record.exc_info[2])[-5:]
            ]
        return json.dumps(entry, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s", "%H:%M:%S")
        self.component = component

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        """The type and the frames, never the message (it may quote personal data)."""
        frames = "".join(traceback.format_list(traceback.extract_tb(ei[2])))
        return f"Traceback (message withheld):\n{frames}{ei[0].__name__}"

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = _ids(record)
        return f"{line}  [{ids['application_id']}]" if "application_id" in ids else line


def configure_logging(component: str, level: int = logging.INFO, fmt: str | None = None) -> None:
    fmt = fmt or get_settings().bhyt_log_format
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(component) if fmt == "json" else ConsoleFormatter(component))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessRedaction) for f in access.filters):
        access.addFilter(AccessRedaction())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    # what Python would print raw on stderr (with the exception's message) goes through logging too
    sys.unraisablehook = _log_unraisable
    sys.excepthook = _log_uncaught


def _log_unraisable(unraisable: Any) -> None:
    exc = unraisable.exc_value
    logging.getLogger("python").warning(
        "exception ignored in %s",
        type(unraisable.object).__name__,
        exc_info=(type(exc), exc, unraisable.exc_traceback) if exc is not None else None,
    )


def _log_uncaught(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    logging.getLogger("python").critical("uncaught exception, exiting", exc_info=(kind, value, tb))
