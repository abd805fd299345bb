"""A schema-based fuzz run of the whole OpenAPI against the app, in process (issue 11, point 10).

Schemathesis generates requests from the published schema — valid ones and, deliberately,
invalid ones — for every operation; each goes through the real app (the portal harness: real
workflow, database, registry simulator) over an ASGI transport, and every answer must be no
5xx, a documented status code, the documented content type, and match the documented schema.

Cases are generated first (Hypothesis, synchronously) and then sent from the test's event
loop, because the app's database and Temporal client live on that loop.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.portal import AUTH, Portal

EXAMPLES_PER_OPERATION_AND_MODE = 40
FUZZ_SUMMARY: list[str] = []
"""Printed at the end of the run (tests/api/portal/conftest.py), so `make test` shows the case count."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def generate_cases(spec: dict[str, Any]) -> list[schemathesis.Case]:
    schema = schemathesis.openapi.from_dict(spec)
    cases: list[schemathesis.Case] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
                database=None,
                deadline=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(operation.as_strategy(generation_mode=mode))
            def collect(case: schemathesis.Case) -> None:
                cases.append(case)

            try:
                collect()
            except Unsatisfiable:
                pass  # nothing to make invalid (an operation without parameters or body)
    return cases


def _request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """requests-style keyword arguments (what schemathesis builds) as httpx's."""
    request: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": kwargs.get("headers") or {},
        "params": kwargs.get("params") or None,
    }
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        request["content"] = kwargs["data"]
    return request


async def test_the_whole_openapi_under_generated_input(api: Portal) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    cases = generate_cases(spec)
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for case in cases:
        kwargs = case.as_transport_kwargs(base_url="http://api", headers=dict(AUTH))
        response = await api.http.request(**_request(kwargs))
        if (
            case.operation.path == "/api/v1/renewals"
            and response.headers.get("content-type") == "application/json"
        ):
            api.note(response)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:  # noqa: BLE001 - every failure is collected, then reported together
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {exc}"[:600])
    FUZZ_SUMMARY.append(
        f"schemathesis: {len(cases)} cases, answers by status {dict(sorted(statuses.items()))}"
    )
    assert len(cases) >= 200
    assert not failures, "\n\n".join(failures[:10])


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
async def test_the_schema_and_docs_are_served(api: Portal, path: str) -> None:
    assert (await api.http.get(path)).status_code == 200
