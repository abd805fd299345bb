"""The shapes of the API's answers other than the application itself, for OpenAPI and clients."""

from __future__ import annotations

from fastapi import HTTPException, status
from pydantic import BaseModel, Field

from domain.models import Receipt
from services.errors import NotFound, UseCaseError


class ErrorAnswer(BaseModel):
    """401, 404, 409, 413, 503: what went wrong, in words (never with personal data)."""

    detail: str


class ConflictAnswer(BaseModel):
    """409: the household has an application in progress (its id given), or another conflict."""

    detail: str
    open_application_id: str | None = Field(
        default=None, description="the household's application in progress: follow or cancel it"
    )


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description='where: ["body", "members", 1, "full_name"]')
    msg: str
    type: str = Field(description="machine-readable kind, e.g. name_control_character, person_duplicate")


class InvalidAnswer(BaseModel):
    """422: one entry per bad field; the input values are never echoed."""

    detail: list[FieldProblem]


class IpnAnswer(BaseModel):
    """VNPay's IPN answer (DESIGN §3), fields in this order."""

    RspCode: str = Field(
        description="00 success, 01 order not found, 02 already confirmed, 04 amount, 97 signature, 99 other"
    )
    Message: str


class HealthAnswer(BaseModel):
    status: str


UNAUTHORIZED = {401: {"model": ErrorAnswer, "description": "missing or invalid bearer token"}}
NOT_FOUND = {404: {"model": ErrorAnswer, "description": "unknown application"}}
INVALID = {422: {"model": InvalidAnswer, "description": "invalid input: one entry per bad field"}}


class ReceiptAnswer(Receipt):
    """The receipt as JSON, with how anyone holding it can look it up (issue 15)."""

    public_code: str = Field(description="the code printed on the receipt and in its QR code")
    lookup_url: str
    refunded: bool


def refused(exc: UseCaseError) -> HTTPException:
    """A use case's refusal as the API answers it: 404 for what does not exist, 409 otherwise."""
    code = status.HTTP_404_NOT_FOUND if isinstance(exc, NotFound) else status.HTTP_409_CONFLICT
    return HTTPException(code, str(exc))
