"""The codec server: decrypts workflow payloads for the Temporal UI of an authenticated operator.

Payloads in Temporal are encrypted (adapters/temporal_payloads.py), so the UI shows ciphertext
until it is given a codec endpoint: the browser then posts the payloads it shows (inputs,
results, queries, signals, encoded failures) to `<endpoint>/decode` and renders the answer.
This app is that endpoint, on its own port and with its own process, so the decryption key
never sits behind the public API.

- Only operators: each holds a token (BHYT_OPERATOR_TOKENS, name → token). It travels as
  `Authorization: Bearer`, as the `bhyt_operator` cookie set by `/login` (the UI then needs
  TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true), or, for the local dev server whose UI can send
  neither, as a path segment of the endpoint (`/o/<token>/decode`; refused in production).
- Only the UI: CORS allows the origin of TEMPORAL_UI_URL and no other.
- Audit: every call is logged with the operator, the namespace, how many payloads, their key ids
  and a fingerprint of each ciphertext (to match against a history), never the decoded content.

    python -m api.codec_server        # BHYT_CODEC_HOST:BHYT_CODEC_PORT
"""

from __future__ import annotations

import hashlib
import html
import logging
from urllib.parse import parse_qs, urlsplit

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, RedirectResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from adapters.temporal_payloads import KEY_ID_METADATA, REFUSED_ENCODING, EncryptionCodec, codec
from api.deps import operator_named
from config import Settings, get_settings
from logs import configure_logging
from production import refuse_unsafe


class PlaintextPayloadError(ValueError):
    """In production the ring refuses a payload without encryption: not shown as if it were ours."""


log = logging.getLogger("bhyt.codec")

COOKIE = "bhyt_operator"


def ui_origin(settings: Settings) -> str:
    parts = urlsplit(settings.temporal_ui_url)
    return f"{parts.scheme}://{parts.netloc}"


def allowed_origins(settings: Settings) -> list[str]:
    """The UI's origin; locally also its other loopback spelling (localhost / 127.0.0.1)."""
    origin = ui_origin(settings)
    loopback = ("//localhost:", "//127.0.0.1:")
    if settings.production or not any(name in origin for name in loopback):
        return [origin]
    return [origin.replace(loopback[0], loopback[1]), origin.replace(loopback[1], loopback[0])]


def _fingerprints(payloads: Payloads) -> list[str]:
    return [hashlib.sha256(p.data).hexdigest()[:12] for p in payloads.payloads]


def _key_ids(payloads: Payloads) -> list[str]:
    return sorted({p.metadata.get(KEY_ID_METADATA, b"-").decode(errors="replace") for p in payloads.payloads})


def create_codec_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    ring: EncryptionCodec = codec(settings)
    app = FastAPI(title="BHYT payload codec", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=allowed_origins(settings),
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
    )

    def operator(request: Request, token: str | None = None) -> str:
        """Who calls: the bearer token, the login cookie, or (dev only) the path token."""
        header = request.headers.get("authorization", "")
        candidates = [
            header[7:] if header.lower().startswith("bearer ") else None,
            request.cookies.get(COOKIE),
            token if not settings.production else None,
        ]
        for candidate in candidates:
            name = operator_named(settings, candidate)
            if name is not None:
                return name
        log.warning(
            "codec call refused: no valid operator token (from %s)", request.client and request.client.host
        )
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "an operator token is required")

    async def payloads_of(request: Request) -> Payloads:
        try:
            return json_format.Parse(await request.body(), Payloads())
        except json_format.ParseError:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, 'body: expected {"payloads": [...]}') from None

    def answer(payloads: Payloads) -> Response:
        return Response(json_format.MessageToJson(payloads), media_type="application/json")

    async def decode(request: Request, who: str) -> Response:
        received = await payloads_of(request)
        try:
            opened = await ring.decode(list(received.payloads))
            if any(p.metadata.get("encoding") == REFUSED_ENCODING for p in opened):
                raise PlaintextPayloadError("payload without encryption (production)")
        except Exception as exc:  # noqa: BLE001 - unknown key, tampered or plaintext: said, not shown
            log.warning(
                "operator %s: decode of %d payloads refused (%s), key ids %s",
                who,
                len(received.payloads),
                type(exc).__name__,
                _key_ids(received),
            )
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"cannot decode: {type(exc).__name__}") from None
        log.info(
            "operator %s decoded %d payloads for namespace %s: key ids %s, fingerprints %s",
            who,
            len(received.payloads),
            request.headers.get("x-namespace", "-"),
            _key_ids(received),
            _fingerprints(received),
        )
        return answer(Payloads(payloads=opened))

    async def encode(request: Request, who: str) -> Response:
        received = await payloads_of(request)
        sealed = Payloads(payloads=await ring.encode(list(received.payloads)))
        log.info(
            "operator %s encoded %d payloads for namespace %s: fingerprints %s",
            who,
            len(received.payloads),
            request.headers.get("x-namespace", "-"),
            _fingerprints(sealed),
        )
        return answer(sealed)

    @app.post("/decode")
    async def decode_route(request: Request, who: str = Depends(operator)) -> Response:
        return await decode(request, who)

    @app.post("/encode")
    async def encode_route(request: Request, who: str = Depends(operator)) -> Response:
        return await encode(request, who)

    @app.post("/o/{token}/decode")
    async def decode_dev(request: Request, token: str) -> Response:
        return await decode(request, operator(request, token))

    @app.post("/o/{token}/encode")
    async def encode_dev(request: Request, token: str) -> Response:
        return await encode(request, operator(request, token))

    @app.get("/login", response_class=HTMLResponse)
    async def login_form() -> str:
        return (
            "<!doctype html><meta charset=utf-8><title>BHYT codec: operator login</title>"
            "<form method=post action=login><label>Operator token <input type=password name=token></label>"
            "<button>Sign in</button></form>"
        )

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = parse_qs((await request.body()).decode(errors="replace"))
        token = (form.get("token") or [""])[0]
        who = operator_named(settings, token)
        if who is None:
            log.warning("codec login refused")
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown operator token")
        log.info("operator %s signed in to the codec server", who)
        response = RedirectResponse(settings.temporal_ui_url, status_code=status.HTTP_303_SEE_OTHER)
        response.set_cookie(
            COOKIE,
            token,
            max_age=8 * 3600,
            httponly=True,
            samesite="lax",
            secure=settings.production,
        )
        return response

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "ui_origin": html.escape(ui_origin(settings))}

    return app


def main() -> None:

    settings = get_settings()
    configure_logging("codec")
    refuse_unsafe(settings, "codec server")
    uvicorn.run(
        create_codec_app(settings),
        host=settings.bhyt_codec_host,
        port=settings.bhyt_codec_port,
        log_level="info",
        proxy_headers=False,  # no proxy in front: the peer is the caller (as the audit lines say)
        log_config=None,
    )


if __name__ == "__main__":
    main()
