"""The population registry simulator as a FastAPI app (see `simulators/registry/__init__.py`)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Security
from fastapi import Path as PathParam
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from simulators.registry.store import CitizenStore

PersonalId = Annotated[str, Field(pattern=r"^\d{12}$", description="số định danh cá nhân, 12 digits")]
MAX_LOOKUP = 100
_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False)


class ResidenceIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    address: str = ""


class CitizenIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    personal_id: PersonalId
    full_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    gender: Literal["male", "female"]
    deceased: bool = False
    permanent_residence: ResidenceIn | None = None
    temporary_residence: ResidenceIn | None = None


class LoadIn(BaseModel):
    """A DESIGN §6 reference file, or just its `citizens` part: the other parts are the BHXH side's."""

    model_config = ConfigDict(extra="ignore")

    citizens: list[CitizenIn]


class LookupIn(BaseModel):
    personal_ids: list[PersonalId] = Field(min_length=1, max_length=MAX_LOOKUP)


class FaultsIn(BaseModel):
    latency_ms: int = Field(0, ge=0, le=120_000)
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    outage: bool = False


@dataclass
class Faults:
    """Run-time failure knobs. The error share is a counter, not a random draw, so tests are exact:
    with rate r, exactly floor(n*r) of the first n calls fail, evenly spread."""

    latency_ms: int = 0
    error_rate: float = 0.0
    outage: bool = False
    calls: int = 0

    def next_call_fails(self) -> bool:
        self.calls += 1
        return math.floor(self.calls * self.error_rate) > math.floor((self.calls - 1) * self.error_rate)


def load_file(store: CitizenStore, path: str | Path) -> int:
    """Load the `citizens` of a DESIGN §6 file, validated exactly as the admin call validates them."""
    data = LoadIn.model_validate_json(Path(path).read_bytes())
    return store.upsert(c.model_dump(mode="json") for c in data.citizens)


def create_app(db_path: str | Path, *, api_key: str | None = None, load: str | Path | None = None) -> FastAPI:
    if api_key is None:
        from config import get_settings

        api_key = get_settings().registry_api_key
    store = CitizenStore(db_path)
    if load is not None:
        load_file(store, load)
    faults = Faults()

    def require_key(key: str | None = Security(_KEY_HEADER)) -> None:
        if key != api_key:
            raise HTTPException(401, "missing or wrong X-API-Key")

    async def apply_faults() -> None:
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.outage:
            raise HTTPException(503, "registry unavailable (simulated outage)", headers={"Retry-After": "5"})
        if faults.next_call_fails():
            raise HTTPException(503, "registry error (simulated)")

    app = FastAPI(
        title="Population registry simulator (CSDLQG về dân cư)",
        description="Stand-in for the National Population Database, for local runs and tests.",
    )
    app.state.store = store
    app.state.faults = faults

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "citizens": store.count()}

    api = APIRouter(
        prefix="/v1", dependencies=[Depends(apply_faults), Depends(require_key)], tags=["registry"]
    )

    @api.post("/citizens/lookup")
    def lookup(body: LookupIn) -> dict[str, Any]:
        """Many people in one call; unknown numbers are left out of the answer, not an error."""
        return {"citizens": store.lookup(list(dict.fromkeys(body.personal_ids)))}

    @api.get("/citizens/{personal_id}")
    def get_citizen(personal_id: Annotated[str, PathParam(pattern=r"^\d{12}$")]) -> dict[str, Any]:
        found = store.lookup([personal_id])
        if not found:
            raise HTTPException(404, "citizen not found")
        return found[0]

    @api.get("/residences/{code}/citizens")
    def residents(code: str) -> dict[str, Any]:
        return {"residence_code": code, "citizens": store.at_residence(code)}

    admin = APIRouter(prefix="/admin", dependencies=[Depends(require_key)], tags=["admin"])

    @admin.post("/citizens")
    def load_citizens(body: LoadIn) -> dict[str, int]:
        """Upsert: loading the same file twice leaves the same rows."""
        loaded = store.upsert(c.model_dump(mode="json") for c in body.citizens)
        return {"loaded": loaded, "total": store.count()}

    @admin.get("/faults")
    def get_faults() -> dict[str, Any]:
        return asdict(faults)

    @admin.put("/faults")
    def set_faults(body: FaultsIn) -> dict[str, Any]:
        faults.latency_ms, faults.error_rate, faults.outage = body.latency_ms, body.error_rate, body.outage
        faults.calls = 0
        return asdict(faults)

    app.include_router(api)
    app.include_router(admin)
    return app
