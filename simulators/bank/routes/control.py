"""The simulator's own controls: its health, and the knobs tests turn (GET|PUT /admin/knobs)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from simulators.bank.state import BankDep

ops = APIRouter(tags=["ops"])
admin = APIRouter(prefix="/admin", tags=["admin"])


class KnobsIn(BaseModel):
    duplicate_callbacks: int | None = Field(None, ge=0, le=20)
    duplicate_concurrent: bool | None = None
    callback_delay_ms: int | None = Field(None, ge=0, le=3_600_000)
    retry_base_ms: int | None = Field(None, ge=0, le=3_600_000)
    retry_max_ms: int | None = Field(None, ge=0, le=3_600_000)
    max_attempts: int | None = Field(None, ge=1, le=100)
    callback_timeout_ms: int | None = Field(None, ge=1, le=600_000)
    refund_settle_ms: int | None = Field(None, ge=0, le=86_400_000)
    refund_outcome: Literal["success", "rejected"] | None = None


@ops.get("/health")
def health(bank: BankDep) -> dict[str, Any]:
    return {"status": "ok", "tmn_code": bank.tmn_code, "callbacks_in_flight": len(bank.delivery.tasks)}


@admin.get("/knobs")
def get_knobs(bank: BankDep) -> dict[str, Any]:
    return asdict(bank.knobs)


@admin.put("/knobs")
def set_knobs(body: KnobsIn, bank: BankDep) -> dict[str, Any]:
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(bank.knobs, name, value)
    return asdict(bank.knobs)
