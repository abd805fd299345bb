"""The API's own metrics, served at /metrics with the business gauges (metrics/business.py).

- bhyt_api_requests_total{route, method, status}: every answer, by route template (never the
  raw path: it holds application ids, which would make one series per application);
- bhyt_ipn_answers_total{rsp_code}: what the bank was told (97 bad signature, 01 unknown order, …);
- bhyt_applications_started_total: declarations answered 201/202 (a workflow runs for them).

A middleware observes the answers, so the routes stay as they are.

`/metrics` answers an operator's token only (Prometheus: `authorization: credentials_file`), so
the public proxy cannot leak it even if its location list is wrong, and a scrape only reads
gauges: the business gauges (about 13 visibility counts and the database aggregates) are
recomputed by one task every BHYT_METRICS_REFRESH_SECONDS, started by the first scrape, so a
scrape storm costs nothing downstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import OperatorName, Services
from metrics.business import BusinessGauges

log = logging.getLogger("bhyt.metrics")

IPN_PATH = "/api/v1/payments/ipn"
RENEWALS_PATH = "/api/v1/renewals"


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "bhyt_api_requests", "HTTP answers of the API", ["route", "method", "status"], registry=registry
        )
        self.ipn_answers = Counter(
            "bhyt_ipn_answers", "IPN answers by RspCode", ["rsp_code"], registry=registry
        )
        self.applications_started = Counter(
            "bhyt_applications_started",
            "Declarations that started an application (201/202)",
            registry=registry,
        )


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        ipn_body = bytearray()

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and scope["path"] == IPN_PATH:
                ipn_body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = getattr(scope.get("route"), "path", None) or "(unmatched)"
            method = scope.get("method", "")
            self.metrics.requests.labels(route, method, str(status)).inc()
            if route == IPN_PATH and ipn_body:
                try:
                    self.metrics.ipn_answers.labels(str(json.loads(bytes(ipn_body))["RspCode"])).inc()
                except (ValueError, KeyError, TypeError):
                    pass
            if route == RENEWALS_PATH and method == "POST" and status in (201, 202):
                self.metrics.applications_started.inc()


def install(app: FastAPI) -> None:
    """Count every answer and serve `/metrics` (API counters + business gauges) on `app`."""
    registry = CollectorRegistry()
    counters = ApiMetrics(registry)
    business = BusinessGauges(registry)
    app.add_middleware(MetricsMiddleware, metrics=counters)

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", include_in_schema=False)
    async def metrics(request: Request, operator: OperatorName) -> Response:
        state = request.app.state
        if getattr(state, "metrics_refresher", None) is None:
            state.metrics_refreshed = asyncio.Event()
            state.metrics_refresher = asyncio.create_task(
                _refresh_every(business, state.services, state.metrics_refreshed)
            )
        await state.metrics_refreshed.wait()  # only the first scrape waits (for the first refresh)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


async def _refresh_every(business: BusinessGauges, services: Services, refreshed: asyncio.Event) -> None:
    while True:
        try:
            await business.refresh(services.temporal, services.db, services.settings)
        except Exception as exc:  # noqa: BLE001 - the next round tries again
            log.warning("business metrics: refresh failed (%s)", type(exc).__name__)
        refreshed.set()
        await asyncio.sleep(services.settings.bhyt_metrics_refresh_seconds)


async def stop(app: FastAPI) -> None:
    """Cancel the refresh task (the app's lifespan ends)."""
    task = getattr(app.state, "metrics_refresher", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        app.state.metrics_refresher = None
