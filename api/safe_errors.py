"""An unexpected exception in a route answers 500 and is logged by type only.

Starlette's own error middleware answers 500 too, but re-raises so that the server logs the
exception with its message, and a database or driver error's message may quote a declaration
(names, personal numbers). This middleware sits inside it, answers first, and never re-raises.
"""

from __future__ import annotations

import logging
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from activities.safe_errors import exception_chain

log = logging.getLogger("bhyt.api")


class SafeErrorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the point: nothing escapes with its message
            error_id = uuid.uuid4().hex[:12]
            route = scope.get("route")
            path = getattr(route, "path", None) or "(no route)"
            log.error("error %s on %s %s: %s", error_id, scope.get("method"), path, exception_chain(exc))
            if started:
                return  # the response is under way: nothing more to send
            body = b'{"detail": "internal error", "error_id": "' + error_id.encode() + b'"}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
