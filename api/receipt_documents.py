"""From a stored receipt to its document, page and signed PDF: shared by the portal and public routes."""

from __future__ import annotations

import asyncio
import logging

from fastapi import HTTPException, Request, status

from adapters.db.receipt_lookup import StoredReceipt
from adapters.receipt_pdf import render_receipt_pdf
from adapters.receipt_signing import ReceiptSigner, SigningIdentityMissing
from api.deps import services
from config import Settings
from domain.receipt_document import Issuer, ReceiptDocument, build_receipt_document

log = logging.getLogger("bhyt.api.receipts")


def lookup_url(settings: Settings, public_code: str) -> str:
    return f"{settings.bhyt_public_url.rstrip('/')}/receipts/{public_code}"


def receipt_document(stored: StoredReceipt, settings: Settings) -> ReceiptDocument:
    return build_receipt_document(
        stored.receipt,
        issuer=Issuer(
            name=settings.bhyt_receipt_issuer_name,
            address=settings.bhyt_receipt_issuer_address,
            tax_code=settings.bhyt_receipt_issuer_tax_code,
        ),
        template_symbol=settings.bhyt_receipt_template,
        fee_name=settings.bhyt_receipt_fee_name,
        positions=stored.positions,
        lookup_code=stored.public_code,
        lookup_url=lookup_url(settings, stored.public_code),
        refunded=stored.refunded,
    )


def receipt_signer(request: Request) -> ReceiptSigner:
    """Loaded (or, locally, created) on first use and kept for the app's life."""
    signer: ReceiptSigner | None = getattr(request.app.state, "receipt_signer", None)
    if signer is None:
        try:
            signer = ReceiptSigner.from_settings(services(request).settings)
        except SigningIdentityMissing as exc:
            log.error("receipt PDFs cannot be signed: %s", exc)
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "the signed receipt is not available right now"
            ) from exc
        request.app.state.receipt_signer = signer
    return signer


async def signed_pdf(doc: ReceiptDocument, signer: ReceiptSigner) -> bytes:
    """Rendering and signing are CPU work (~0.2 s each): off the event loop."""

    def work() -> bytes:
        return signer.sign(render_receipt_pdf(doc), reason=f"{doc.title} {doc.label}")

    return await asyncio.to_thread(work)


def pdf_filename(doc: ReceiptDocument) -> str:
    return f"bien-lai-{doc.label.replace('/', '-')}.pdf"
