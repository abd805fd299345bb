"""The public receipt lookup: `GET /receipts/{code}` — anyone holding the code (printed on the
receipt and in its QR code) sees the receipt and can download the signed PDF; no portal token.

What protects it: codes are 160 random bits, so they cannot be guessed or enumerated; the card
numbers are masked (the BHXH number in them is a person's lifelong number); an unknown or
malformed code gets the same plain 404 page; each client address is rate-limited in-process
(BHYT_RECEIPT_LOOKUPS_PER_MINUTE, see api/rate_limit.py) — the real client's, which the reverse
proxy names in X-Forwarded-For (believed from BHYT_TRUSTED_PROXIES only, api/app.py); pages are
neither cached nor indexed, and the access log shows `/receipts/{code}`, never the code (logs.py).
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from adapters.db.receipt_lookup import receipt_by_public_code
from adapters.receipt_signing import ReceiptSigner
from api.deps import ServicesDep
from api.rate_limit import SlidingWindowLimiter
from api.receipt_documents import pdf_filename, receipt_document, receipt_signer, signed_pdf
from api.receipt_page import render_not_found, render_receipt, render_too_many
from domain.receipt_document import normalise_lookup_code

router = APIRouter(tags=["public receipts"])

CODE_PATTERN = re.compile(r"[A-Z2-7]{32}")
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


def _limiter(request: Request, svc: ServicesDep) -> SlidingWindowLimiter:
    limiter: SlidingWindowLimiter | None = getattr(request.app.state, "receipt_lookup_limiter", None)
    if limiter is None:
        limiter = SlidingWindowLimiter(svc.settings.bhyt_receipt_lookups_per_minute, 60.0)
        request.app.state.receipt_lookup_limiter = limiter
    return limiter


@router.get(
    "/receipts/{code}",
    operation_id="lookupReceipt",
    summary="Public receipt lookup by the code printed on the receipt (no token); ?format=pdf for the signed PDF",
    response_class=HTMLResponse,
    responses={
        200: {
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            }
        },
        404: {
            "content": {"text/html": {"schema": {"type": "string"}}},
            "description": "no receipt has this code (a plain HTML page)",
        },
        429: {
            "content": {"text/html": {"schema": {"type": "string"}}},
            "description": "too many lookups from this address; see Retry-After",
        },
    },
)
async def lookup_receipt(
    code: str,
    request: Request,
    svc: ServicesDep,
    limiter: Annotated[SlidingWindowLimiter, Depends(_limiter)],
    format: Annotated[str, Query(pattern="^(html|pdf)$")] = "html",
) -> Response:
    client = request.client.host if request.client else "unknown"
    wait = limiter.hit(client)
    if wait is not None:
        seconds = math.ceil(wait)
        return HTMLResponse(
            render_too_many(seconds),
            status.HTTP_429_TOO_MANY_REQUESTS,
            headers={**PRIVATE_HEADERS, "Retry-After": str(seconds)},
        )
    normal = normalise_lookup_code(code)
    stored = None
    if CODE_PATTERN.fullmatch(normal):
        async with svc.db.unit_of_work(read_only=True) as uow:
            stored = await receipt_by_public_code(uow, normal)
    if stored is None:
        return HTMLResponse(render_not_found(), status.HTTP_404_NOT_FOUND, headers=PRIVATE_HEADERS)
    doc = receipt_document(stored, svc.settings).for_public()
    if format == "pdf":
        signer: ReceiptSigner = receipt_signer(request)
        return Response(
            await signed_pdf(doc, signer),
            media_type="application/pdf",
            headers={**PRIVATE_HEADERS, "Content-Disposition": f'inline; filename="{pdf_filename(doc)}"'},
        )
    return HTMLResponse(
        render_receipt(doc, pdf_url=f"/receipts/{normal}?format=pdf"), headers=PRIVATE_HEADERS
    )
