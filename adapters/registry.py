"""Client of the National Population Database (CSDLQG về dân cư), used by step 2a and 2b.

It knows only a base URL and an API key, so the bundled simulator and the real registry are
interchangeable by configuration. It does not retry: the workflow's retry policy owns retries,
and the error types tell it what is worth retrying:

    RegistryError
    ├── RegistryNotFound      the registry answered: no such person (a business answer)
    ├── RegistryBadRequest    our request or credentials are wrong; retrying cannot help
    └── RegistryUnavailable   timeout, connection failure, 5xx/429, unreadable answer: retry later

Personal numbers never appear in error messages or log lines, and never in a URL this client
sends (a single-person lookup goes through the POST lookup body): URLs end up in proxy and
httpx logs, bodies do not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from domain.models import Citizen

log = logging.getLogger(__name__)

LOOKUP_BATCH = 100
"""The most personal numbers one lookup call carries (the simulator enforces the same bound)."""


class RegistryError(Exception):
    """Base of every registry failure; `retryable` is what a retry policy should look at."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, operation: str = "", status_code: int | None = None) -> None:
        super().__init__(message)
        self.operation = operation
        self.status_code = status_code


class RegistryNotFound(RegistryError):
    """The registry has no such person: an answer, not a failure, so never retried."""


class RegistryBadRequest(RegistryError):
    """Malformed request, bad API key, or wrong URL: the same call will fail the same way."""


class RegistryUnavailable(RegistryError):
    retryable = True


class RegistryClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # One pooled client for the adapter's lifetime: activities call it many times a second,
        # and a fresh TLS handshake per call would dominate the latency.
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"X-API-Key": api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            transport=transport,
        )

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def lookup(self, personal_ids: Sequence[str]) -> dict[str, Citizen]:
        """Unknown numbers are simply absent from the result: "not registered" is data here."""
        unique = list(dict.fromkeys(personal_ids))
        found: dict[str, Citizen] = {}
        for start in range(0, len(unique), LOOKUP_BATCH):
            batch = unique[start : start + LOOKUP_BATCH]
            body = await self._call("lookup", "POST", "/v1/citizens/lookup", json={"personal_ids": batch})
            for citizen in self._citizens("lookup", body):
                found[citizen.personal_id] = citizen
        return found

    async def get(self, personal_id: str) -> Citizen:
        found = await self.lookup([personal_id])
        try:
            return found[personal_id]
        except KeyError:
            raise RegistryNotFound(
                "the registry has no citizen with this personal number", operation="get"
            ) from None

    async def residents(self, residence_code: str) -> list[Citizen]:
        """Everyone registered (permanently or temporarily) at the residence; [] for an unknown code."""
        path = f"/v1/residences/{quote(residence_code, safe='')}/citizens"
        body = await self._call("residents", "GET", path)
        return self._citizens("residents", body)

    async def health(self) -> bool:
        try:
            response = await self._http.get("/health")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    # -- plumbing -------------------------------------------------------------------------------

    async def _call(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            self._log(operation, started, outcome="timeout")
            raise RegistryUnavailable(f"registry {operation}: timed out", operation=operation) from exc
        except httpx.TransportError as exc:
            self._log(operation, started, outcome=type(exc).__name__)
            raise RegistryUnavailable(
                f"registry {operation}: cannot reach the registry ({type(exc).__name__})", operation=operation
            ) from exc
        status = response.status_code
        self._log(operation, started, outcome=str(status))
        if status >= 500 or status in (408, 429):
            raise RegistryUnavailable(
                f"registry {operation}: HTTP {status}", operation=operation, status_code=status
            )
        if status == 404 and operation == "get":
            raise RegistryNotFound(
                "the registry has no citizen with this personal number", operation=operation
            )
        if status >= 400:
            # The body may echo our input (personal numbers): keep it out of the message.
            raise RegistryBadRequest(
                f"registry {operation}: HTTP {status}", operation=operation, status_code=status
            )
        try:
            return response.json()
        except ValueError as exc:
            raise RegistryUnavailable(
                f"registry {operation}: unreadable answer", operation=operation, status_code=status
            ) from exc

    @staticmethod
    def _citizens(operation: str, body: Any) -> list[Citizen]:
        try:
            return [Citizen.model_validate(item) for item in body["citizens"]]
        except (KeyError, TypeError, ValidationError):
            # Retryable: a proxy's garbled page is transient, and a persistent schema drift still
            # surfaces once the retry policy is exhausted. `from None`: a ValidationError quotes
            # the input, which is personal data.
            raise RegistryUnavailable(
                f"registry {operation}: answer does not match the contract", operation=operation
            ) from None

    @staticmethod
    def _log(operation: str, started: float, *, outcome: str) -> None:
        log.info("registry %s -> %s in %.0f ms", operation, outcome, (time.monotonic() - started) * 1000)
