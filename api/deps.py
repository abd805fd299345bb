"""What every route may depend on: settings, the Temporal client, the database, the caller's token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from adapters.db import Database
from config import Settings


@dataclass
class Services:
    """Built once at start-up (api.app.lifespan) and shared by every request."""

    settings: Settings
    temporal: Client
    db: Database


def services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(services)]

_bearer = HTTPBearer(auto_error=False, description="the portal token (BHYT_API_TOKEN)")


def portal_caller(
    svc: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Portal calls carry `Authorization: Bearer <BHYT_API_TOKEN>`; compared in constant time."""
    if credentials is None or not secrets.compare_digest(
        credentials.credentials.encode(), svc.settings.bhyt_api_token.encode()
    ):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )


PortalCaller = Depends(portal_caller)
