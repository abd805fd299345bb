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
from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import ValidationError

from adapters.http_client import JsonServiceClient, ServiceError, path_segment
from domain.models import Citizen

log = logging.getLogger(__name__)

LOOKUP_BATCH = 100
"""The most personal numbers one lookup call carries (the simulator enforces the same bound)."""


_NOT_FOUND = "the registry has no citizen with this personal number"


class RegistryError(ServiceError):
    """Base of every registry failure; `retryable` is what a retry policy should look at."""


class RegistryNotFound(RegistryError):
    """The registry has no such person: an answer, not a failure, so never retried."""


class RegistryBadRequest(RegistryError):
    """Malformed request, bad API key, or wrong URL: the same call will fail the same way."""


class RegistryUnavailable(RegistryError):
    retryable = True


class RegistryClient(JsonServiceClient):
    service = "registry"
    peer = "the registry"
    unavailable = RegistryUnavailable
    unreadable_has_status = True
    logger = log

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, headers={"X-API-Key": api_key}, timeout=timeout, transport=transport)

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
            raise RegistryNotFound(_NOT_FOUND, operation="get") from None

    async def residents(self, residence_code: str) -> list[Citizen]:
        """Everyone registered (permanently or temporarily) at the residence; [] for an unknown code."""
        path = f"/v1/residences/{path_segment(residence_code)}/citizens"
        body = await self._call("residents", "GET", path)
        return self._citizens("residents", body)

    # -- plumbing -------------------------------------------------------------------------------

    def _rejected(self, operation: str, response: httpx.Response) -> RegistryError:
        status = response.status_code
        if status == 404 and operation == "get":
            return RegistryNotFound(_NOT_FOUND, operation=operation)
        # The body may echo our input (personal numbers): keep it out of the message.
        return RegistryBadRequest(
            f"registry {operation}: HTTP {status}", operation=operation, status_code=status
        )

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
