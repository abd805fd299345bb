"""The operator's review decision over HTTP: an operator's own token, never the portal's."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.answers import INVALID, NOT_FOUND, ErrorAnswer, refused
from api.body import TOO_LARGE, BodyNotJson, read_json
from api.deps import OperatorName, ServicesDep
from api.renewals import NOT_JSON, _checked_id, _invalid, _view
from domain.application import ApplicationView
from domain.review import ReviewRequest
from domain.validation import DeclarationInvalid, field_errors
from services import refund_decisions, review
from services.errors import UseCaseError

router = APIRouter(
    prefix="/api/v1/renewals",
    tags=["operators"],
    responses={
        401: {"model": ErrorAnswer, "description": "missing or invalid operator token"},
        403: {"model": ErrorAnswer, "description": "the portal token: an operator's own token is required"},
    },
)


@router.post(
    "/{application_id}/review",
    response_model=ApplicationView,
    operation_id="resolveReview",
    summary="An operator's decision on a payment review: accept a transfer, or refund and cancel",
    responses={
        **NOT_FOUND,
        409: {"model": ErrorAnswer, "description": "the decision does not apply (names the field and why)"},
        413: {"model": ErrorAnswer, "description": TOO_LARGE},
        **INVALID,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReviewRequest"}}},
        }
    },
)
async def resolve_review(
    application_id: str, request: Request, svc: ServicesDep, operator: OperatorName
) -> JSONResponse:
    """Authorization: `Bearer <operator token>` (BHYT_OPERATOR_TOKENS). The audit records the
    operator that token names; a body naming an `operator` is refused (422)."""
    try:
        decision = ReviewRequest.model_validate(await read_json(request)).decision(operator)
    except BodyNotJson:
        return _invalid(DeclarationInvalid([NOT_JSON]))
    except ValidationError as exc:
        return _invalid(DeclarationInvalid(field_errors(exc)))
    try:
        view = await review.resolve_review(svc.db, svc.temporal, _checked_id(application_id), decision)
    except UseCaseError as exc:
        raise refused(exc) from None
    return _view(view)


class RefundDecision(BaseModel):
    """An operator's decision on a refund the bank rejected or refused (`refund_due`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Literal["retry", "paid_back"] = Field(
        description="retry: the worker's refund follower sends a new request; paid_back: returned by other means"
    )
    reason: str | None = Field(None, min_length=3, max_length=200, description="kept with the decision")


@router.post(
    "/{application_id}/refunds/{transaction}",
    response_model=ApplicationView,
    operation_id="decideRefund",
    summary="An operator's decision on a refund due: retry it, or record it paid back by other means",
    responses={
        **NOT_FOUND,
        409: {"model": ErrorAnswer, "description": "the refund is not rejected (names the field and why)"},
        413: {"model": ErrorAnswer, "description": TOO_LARGE},
        **INVALID,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RefundDecision"}}},
        }
    },
)
async def decide_refund(
    application_id: str, transaction: str, request: Request, svc: ServicesDep, operator: OperatorName
) -> JSONResponse:
    """Authorization: `Bearer <operator token>`; recorded with that operator's name. The body is
    read after the token was checked, and bounded (api.body)."""
    try:
        body = RefundDecision.model_validate(await read_json(request))
    except BodyNotJson:
        return _invalid(DeclarationInvalid([NOT_JSON]))
    except ValidationError as exc:
        return _invalid(DeclarationInvalid(field_errors(exc)))
    try:
        view = await refund_decisions.decide_refund(
            svc.db, svc.temporal, _checked_id(application_id), transaction, body.decision, operator, body.reason
        )
    except UseCaseError as exc:
        raise refused(exc) from None
    return _view(view)
