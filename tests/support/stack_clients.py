"""Clients of a running `Stack` for end-to-end suites: the API with the operator's token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from scripts.stack import Stack

NO_KEEPALIVE = httpx.Limits(max_keepalive_connections=0)
"""A fresh connection per request. The suites wait for minutes between calls (a run finishing,
a server restarted); a pooled connection that the server closed meanwhile (uvicorn drops idle ones
after 5 s) races the next request and fails it with RemoteProtocolError, a flake of the test."""


@asynccontextmanager
async def api_client(stack: Stack, http_timeout: float) -> AsyncIterator[httpx.AsyncClient]:
    """The stack's API, authenticated with its bearer token (the suites' `api` fixtures)."""
    headers = {"Authorization": f"Bearer {stack.settings.bhyt_api_token}"}
    async with httpx.AsyncClient(
        base_url=stack.urls.api, headers=headers, timeout=http_timeout, limits=NO_KEEPALIVE
    ) as client:
        yield client
