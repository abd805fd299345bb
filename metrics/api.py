"""The API's own metrics, served at /metrics with the business gauges (metrics/business.py).

- bhyt_api_requests_total{route, method, status}: every answer, by route template (never the
  raw path: it holds application ids, which would make one series per application);
- bhyt_ipn_answers_total{rsp_code}: what the bank was told (97 bad signature, 01 unknown order, …);
- bhyt_applications_started_total: declarations answered 201/202 (a workflow runs for them).

A middleware observes the answers, so the routes stay as they are.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    from metrics.business import BusinessGauges

    registry = CollectorRegistry()
    counters = ApiMetrics(registry)
    business = BusinessGauges(registry)
    app.add_middleware(MetricsMiddleware, metrics=counters)

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        services = request.app.state.services
        await business.refresh(services.temporal, services.db, services.settings)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
