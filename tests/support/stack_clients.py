"""Clients of a running `Stack` for end-to-end suites: the API with the operator's token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from scripts.stack import Stack


@asynccontextmanager
async def api_client(stack: Stack, http_timeout: float) -> AsyncIterator[httpx.AsyncClient]:
    """The stack's API, authenticated with its bearer token (the suites' `api` fixtures)."""
    headers = {"Authorization": f"Bearer {stack.settings.bhyt_api_token}"}
    async with httpx.AsyncClient(base_url=stack.urls.api, headers=headers, timeout=http_timeout) as client:
        yield client
