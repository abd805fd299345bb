"""Portal routes: declare (update-with-start), follow, cancel, and the receipt."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse

from adapters.db.receipt_lookup import receipt_by_application
from api.answers import (
    INVALID,
    NOT_FOUND,
    UNAUTHORIZED,
    ConflictAnswer,
    ErrorAnswer,
    ReceiptAnswer,
    refused,
)
from api.body import TOO_LARGE, BodyNotJson, read_json
from api.deps import PortalCaller, ServicesDep
from api.receipt_documents import pdf_filename, receipt_document, receipt_signer, signed_pdf
from api.receipt_page import render_receipt
from domain.application import ApplicationView, NoticeView, vietnam_date
from domain.eligibility import person_keys, same_person_pairs
from domain.identifiers import CardRef, parse_card_number
from domain.models import ApplicationStatus, Declaration
from domain.validation import (
    DeclarationInvalid,
    FieldError,
    duplicate_person_error,
    parse_declaration,
)
from services import applications, declare
from services.cancel import cancel
from services.declare import renewal_input
from services.errors import UseCaseError
from workflows import client as renewals

router = APIRouter(
    prefix="/api/v1/renewals", tags=["renewals"], dependencies=[PortalCaller], responses={**UNAUTHORIZED}
)

SUBMIT_WAIT_SECONDS = 30.0
"""How long POST waits for steps 1–2 before answering 202 with the application still verifying."""

IDEMPOTENCY_NAMESPACE = uuid.UUID("6f0e7a53-1d5c-4c0e-9a55-3f1b2d7c9b10")

DECLARATION_EXAMPLE = {
    "head": {
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1980-05-12",
        "gender": "male",
        "personal_id": "001080012345",
    },
    "members": [
        {
            "card_number": "GD4010123456789",
            "full_name": "Nguyễn Văn An",
            "date_of_birth": "1980-05-12",
            "gender": "male",
            "relationship": "chủ hộ",
            "months": 12,
        }
    ],
}


NOT_AN_OBJECT = FieldError(loc=(), msg="the body must be a JSON object (the declaration)", type="model_type")
NOT_JSON = FieldError(loc=(), msg="the body must be a JSON document (the declaration)", type="json_invalid")


def _application_id(idempotency_key: str | None) -> str:
    """The same Idempotency-Key always names the same application, so a retry finds it."""
    if idempotency_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, idempotency_key))


def _fingerprint(declaration: Declaration) -> str:
    canonical = json.dumps(declaration.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _invalid(exc: DeclarationInvalid) -> JSONResponse:
    """422 in FastAPI's shape, one entry per bad field, without echoing any input value."""
    detail = [{"loc": ["body", *e.loc], "msg": e.msg, "type": e.type} for e in exc.errors]
    return JSONResponse(status_code=422, content={"detail": detail})


def _view(view: ApplicationView, code: int = status.HTTP_200_OK) -> JSONResponse:
    return JSONResponse(status_code=code, content=view.model_dump(mode="json"))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationView,
    operation_id="declareRenewal",
    summary="Declare a household renewal (steps 1–2) and get the quote or the rejection",
    responses={
        202: {
            "model": ApplicationView,
            "description": "accepted; verification still running: follow with GET",
        },
        409: {
            "model": ConflictAnswer,
            "description": "the household already has an application in progress (its id is given), "
            "or the Idempotency-Key was used for another declaration",
        },
        413: {"model": ErrorAnswer, "description": TOO_LARGE},
        **INVALID,
        503: {"model": ErrorAnswer, "description": "the workflow service did not answer"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/Declaration"},
                    "example": DECLARATION_EXAMPLE,
                }
            },
        }
    },
)
async def create_renewal(
    request: Request,
    svc: ServicesDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> JSONResponse:
    """The body is read here, after the bearer token was checked, and bounded (api.body)."""
    now = datetime.now(UTC)
    try:
        body = await read_json(request)
    except BodyNotJson:
        return _invalid(DeclarationInvalid([NOT_JSON]))
    if not isinstance(body, dict):
        return _invalid(DeclarationInvalid([NOT_AN_OBJECT]))
    try:
        declaration = parse_declaration(body, today=vietnam_date(now))
        await _one_person_one_line(svc, declaration)
    except DeclarationInvalid as exc:
        return _invalid(exc)

    application_id = _application_id(idempotency_key)
    if idempotency_key is not None:
        async with svc.db.unit_of_work(read_only=True) as uow:
            existing = await uow.repo.get_application(application_id)
        if existing is not None and existing.declaration is not None:
            if _fingerprint(existing.declaration) != _fingerprint(declaration):
                raise HTTPException(
                    status.HTTP_409_CONFLICT, "Idempotency-Key was used for another declaration"
                )

    request_input = renewal_input(svc.settings, application_id, declaration, now)
    submit = asyncio.ensure_future(declare.submit(svc.temporal, svc.settings, request_input))
    try:
        view = await asyncio.wait_for(asyncio.shield(submit), timeout=SUBMIT_WAIT_SECONDS)
    except TimeoutError:
        submit.cancel()
        pending = await renewals.status(svc.temporal, application_id)
        if pending is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "the workflow service did not answer"
            ) from None
        return _view(pending, status.HTTP_202_ACCEPTED)
    if view.status == ApplicationStatus.REJECTED and view.open_application_id is not None:
        busy = ConflictAnswer(
            detail=view.rejection_message or "the household has an application in progress",
            open_application_id=view.open_application_id,
        )
        return JSONResponse(status_code=status.HTTP_409_CONFLICT, content=busy.model_dump())
    addressed = view.model_copy(update={"addressee": declaration.the_declarant.full_name})
    return _view(addressed, status.HTTP_201_CREATED)


async def _one_person_one_line(svc: ServicesDep, declaration: Declaration) -> None:
    """Every card form resolved to its participant before anything starts: the same person on two
    lines (say the 15-character card and the 12-digit personal number) is a 422 naming both."""
    cards: list[CardRef | None] = [parse_card_number(m.card_number) for m in declaration.members]
    async with svc.db.unit_of_work(read_only=True) as uow:
        participants = [await uow.repo.find_participant(m.card_number) for m in declaration.members]
    pairs = same_person_pairs(person_keys(cards, participants))
    if pairs:
        raise DeclarationInvalid([duplicate_person_error(first, later) for first, later in pairs])


def _checked_id(application_id: str) -> str:
    """An application id is a UUID: any other is answered 404 without asking the run."""
    try:
        uuid.UUID(application_id)
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such application") from None
    return application_id


async def _find(svc: ServicesDep, application_id: str) -> ApplicationView:
    try:
        return await applications.find(svc.temporal, _checked_id(application_id))
    except UseCaseError as exc:
        raise refused(exc) from None


@router.get(
    "/{application_id}",
    response_model=ApplicationView,
    operation_id="getRenewal",
    summary="The application as it stands now (each renewed member: the prescribed message, the new validity)",
    responses={**NOT_FOUND},
)
async def get_renewal(application_id: str, svc: ServicesDep) -> JSONResponse:
    """With `payments`: each bank transaction of the application and where its money stands
    (`allocated`, `processing`, `under_review`, `refund_due`, `refund_pending`, `refunded`)."""
    try:
        return _view(await applications.current(svc.db, svc.temporal, _checked_id(application_id)))
    except UseCaseError as exc:
        raise refused(exc) from None


@router.post(
    "/{application_id}/cancel",
    response_model=ApplicationView,
    operation_id="cancelRenewal",
    summary="Cancel an application still awaiting payment",
    responses={
        202: {"model": ApplicationView, "description": "cancel requested; the run is still closing"},
        **NOT_FOUND,
        409: {"model": ErrorAnswer, "description": "already paid, or already closed"},
    },
)
async def cancel_renewal(application_id: str, svc: ServicesDep) -> JSONResponse:
    try:
        view = await cancel(svc.db, svc.temporal, _checked_id(application_id))
    except UseCaseError as exc:
        raise refused(exc) from None
    cancelled = view.status == ApplicationStatus.CANCELLED
    return _view(view, status.HTTP_200_OK if cancelled else status.HTTP_202_ACCEPTED)


@router.get(
    "/{application_id}/receipt",
    response_model=ReceiptAnswer,
    operation_id="getReceipt",
    summary="The receipt (biên lai thu tiền); ?format=html for a printable page, ?format=pdf for the signed e-receipt",
    responses={
        200: {
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "the receipt",
        },
        404: {"model": ErrorAnswer, "description": "unknown application, or no receipt issued yet"},
        **INVALID,
    },
)
async def get_receipt(
    application_id: str,
    request: Request,
    svc: ServicesDep,
    format: Annotated[str, Query(pattern="^(json|html|pdf)$")] = "json",
) -> Any:
    async with svc.db.unit_of_work(read_only=True) as uow:
        stored = await receipt_by_application(uow, application_id)
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no receipt issued for this application")
    doc = receipt_document(stored, svc.settings)
    if format == "pdf":
        pdf = await signed_pdf(doc, receipt_signer(request))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{pdf_filename(doc)}"'},
        )
    if format == "html":
        return HTMLResponse(render_receipt(doc, pdf_url="?format=pdf", application_id=application_id))
    return JSONResponse(
        content={
            **stored.receipt.model_dump(mode="json"),
            "public_code": stored.public_code,
            "lookup_url": doc.lookup_url,
            "refunded": stored.refunded,
        }
    )


@router.get(
    "/{application_id}/notices",
    response_model=list[NoticeView],
    operation_id="listNotices",
    summary="Every notice of the application (kind, recipient, addressee, message, its state on each channel)",
    responses={**NOT_FOUND},
)
async def list_notices(application_id: str, svc: ServicesDep) -> list[NoticeView]:
    try:
        return await applications.notices(svc.db, svc.temporal, application_id)
    except UseCaseError as exc:
        raise refused(exc) from None
