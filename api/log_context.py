"""Every log line of a request about one application carries its id (logs.py), access log included."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from logs import REQUEST_IDS, WORKFLOW_PREFIX

APPLICATION_PATH = re.compile(r"^/api/v1/renewals/([^/]+)")


class LogContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = APPLICATION_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        application_id = found.group(1)
        token = REQUEST_IDS.set(
            {"application_id": application_id, "workflow_id": f"{WORKFLOW_PREFIX}{application_id}"}
        )
        try:
            await self.app(scope, receive, send)
        finally:
            REQUEST_IDS.reset(token)
