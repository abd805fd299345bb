"""The operator's figures (issue 22): `GET /api/v1/stats`, what `starter.py stats --from` prints.

Operators only (their own token, `OperatorName`): the figures are counts and amounts, but they
are BHXH's, not a portal's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.answers import INVALID, ErrorAnswer
from api.deps import OperatorName, ServicesDep
from domain.stats import Figures, Granularity
from services.stats import figures

router = APIRouter(prefix="/api/v1/stats", tags=["operators"])


@router.get(
    "",
    response_model=Figures,
    operation_id="getFigures",
    summary="Figures per day or month of declaration: by status, channel, province, office; money; "
    "share completed online; median time to payment",
    responses={
        401: {"model": ErrorAnswer, "description": "missing or invalid operator token"},
        403: {"model": ErrorAnswer, "description": "the portal token is not an operator's"},
        **INVALID,
    },
)
async def get_figures(
    operator: OperatorName,
    svc: ServicesDep,
    start: Annotated[date, Query(alias="from", description="first declaration day, YYYY-MM-DD")],
    end: Annotated[date, Query(alias="to", description="last declaration day, YYYY-MM-DD (included)")],
    by: Granularity = "day",
) -> JSONResponse:
    if end < start:
        return JSONResponse(
            status_code=422,
            content={
                "detail": [
                    {"loc": ["query", "to"], "msg": "must not be before from", "type": "range_reversed"}
                ]
            },
        )
    found = await figures(svc.db, start, end, by)
    return JSONResponse(content=found.model_dump(mode="json", by_alias=True))
