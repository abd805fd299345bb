"""Reading a request body only once the caller is known, and never more than we accept.

FastAPI reads and parses a declared body before any dependency runs, so a route that took the
declaration as a parameter let anyone make the server read megabytes before the `401`. The
declaration route therefore has no body parameter: it runs its authentication dependency first
and then reads the body here, bounded.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request

MAX_BODY_BYTES = 64 * 1024
"""A declaration of the largest household (20 members) is about 5 KB."""

TOO_LARGE = f"request body larger than {MAX_BODY_BYTES} bytes"


class BodyNotJson(Exception):
    """The body is not a JSON document (empty, not UTF-8, malformed or nested absurdly deep)."""


async def read_json(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
    """The parsed JSON body; 413 past `limit` (declared or streamed), BodyNotJson if unreadable."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, TOO_LARGE)
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise HTTPException(413, TOO_LARGE)
    if not received:
        raise BodyNotJson("the body is empty")
    try:
        return json.loads(bytes(received).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BodyNotJson("the body is not valid JSON") from None
