"""What the outbound JSON-over-HTTP adapters (registry, bank) share: the pooled client, the timed call
with its log line, and the mapping of failures onto errors a retry policy can read.

The shared mapping, for a service named e.g. "bank":

    timeout                          -> unavailable   "bank <op>: timed out"
    connection failure               -> unavailable   "bank <op>: cannot reach <peer> (<ExceptionType>)"
    5xx, 408, 429                    -> unavailable   "bank <op>: HTTP <status>"
    any other 4xx                    -> the adapter's `_rejected` decides (its meaning differs per service)
    2xx whose body is not JSON       -> unavailable   "bank <op>: unreadable answer"

Messages and log lines carry the operation, the status and exception type names only: never a URL,
a body or a value we sent, which may be personal data.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar, Self
from urllib.parse import quote

import httpx


class ServiceError(Exception):
    """Base of each adapter's error family; `retryable` is what a retry policy should look at."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, operation: str = "", status_code: int | None = None) -> None:
        super().__init__(message)
        self.operation = operation
        self.status_code = status_code


class JsonServiceClient:
    """One pooled httpx client for the adapter's lifetime: activities call it many times a second,
    and a fresh TLS handshake per call would dominate the latency. It never retries on its own."""

    service: ClassVar[str]
    """First word of every error message and log line ("registry", "bank")."""
    peer: ClassVar[str]
    """What a connection failure could not reach ("the registry", "the gateway")."""
    unavailable: ClassVar[type[ServiceError]]
    """The adapter's retryable error."""
    unreadable_has_status: ClassVar[bool]
    """Whether the "unreadable answer" error carries the (2xx) status code."""
    logger: ClassVar[logging.Logger]
    """The adapter module's logger."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str],
        timeout: float,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={**headers, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def health(self) -> bool:
        try:
            response = await self._http.get("/health")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def _rejected(self, operation: str, response: httpx.Response) -> ServiceError:
        """The error for a 4xx answer other than 408 and 429."""
        raise NotImplementedError

    async def _call(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            self._log(operation, started, "timeout")
            raise self.unavailable(f"{self.service} {operation}: timed out", operation=operation) from exc
        except httpx.TransportError as exc:
            self._log(operation, started, type(exc).__name__)
            raise self.unavailable(
                f"{self.service} {operation}: cannot reach {self.peer} ({type(exc).__name__})",
                operation=operation,
            ) from exc
        status = response.status_code
        self._log(operation, started, str(status))
        if status >= 500 or status in (408, 429):
            raise self.unavailable(
                f"{self.service} {operation}: HTTP {status}", operation=operation, status_code=status
            )
        if status >= 400:
            raise self._rejected(operation, response)
        try:
            return response.json()
        except ValueError as exc:
            raise self.unavailable(
                f"{self.service} {operation}: unreadable answer",
                operation=operation,
                status_code=status if self.unreadable_has_status else None,
            ) from exc

    def _log(self, operation: str, started: float, outcome: str) -> None:
        self.logger.info(
            "%s %s -> %s in %.0f ms", self.service, operation, outcome, (time.monotonic() - started) * 1000
        )


def path_segment(value: str) -> str:
    """`value` quoted as one URL path segment ("/" included)."""
    return quote(value, safe="")
