"""The FastAPI application: wiring only. OpenAPI at /docs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from temporalio.client import Client
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from adapters.db import Database
from adapters.temporal_client import connect
from api import ipn, prefill, public_receipts, renewals, review, stats
from api.answers import HealthAnswer
from api.deps import Services
from api.log_context import LogContextMiddleware
from api.review import RefundDecision
from api.safe_errors import SafeErrorsMiddleware
from config import Settings, get_settings
from domain.models import Declaration
from domain.review import ReviewRequest
from metrics import api as metrics_api

log = logging.getLogger("bhyt.api")


def operation_id(route: APIRoute) -> str:
    """operationIds fit for generated clients: the route's function name in camelCase
    (`get_renewal` → `getRenewal`), unless the route names its own."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def create_app(
    settings: Settings | None = None, *, temporal: Client | None = None, db: Database | None = None
) -> FastAPI:
    """Build the app; tests may hand in a Temporal client and a database of their own."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = temporal or await connect(settings)
        database = db or Database(settings.database_url)
        app.state.services = Services(settings=settings, temporal=client, db=database)
        try:
            yield
        finally:
            await metrics_api.stop(app)
            if db is None:
                await database.dispose()

    app = FastAPI(
        title="BHYT household renewal",
        version="1.0",
        summary="Online renewal of household health-insurance cards (gia hạn thẻ BHYT hộ gia đình)",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    metrics_api.install(app)
    app.add_middleware(SafeErrorsMiddleware)
    app.add_middleware(LogContextMiddleware)
    # outermost: the client every other part sees (rate limit, logs) is the one the trusted proxy names
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.bhyt_trusted_proxies)
    app.include_router(renewals.router)
    app.include_router(prefill.router)
    app.include_router(stats.router)
    app.include_router(review.router)
    app.include_router(ipn.router)
    app.include_router(public_receipts.router)

    def openapi() -> dict:
        """The declaration body is parsed by the domain (for field-named errors without echoed
        values), so FastAPI does not see its model: add it to the components ourselves."""
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            declaration = Declaration.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(declaration.pop("$defs", {}))
            schemas["Declaration"] = declaration
            schemas["ReviewRequest"] = ReviewRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas["RefundDecision"] = RefundDecision.model_json_schema(ref_template="#/components/schemas/{model}")
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/health", tags=["ops"], summary="Liveness", response_model=HealthAnswer, operation_id="health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's 422 without the `input` it would echo (it may be personal data)."""
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": detail})

    return app
