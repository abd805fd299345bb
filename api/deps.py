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

_operator_bearer = HTTPBearer(auto_error=False, description="an operator's own token (BHYT_OPERATOR_TOKENS)")


def operator_named(settings: Settings, token: str | None) -> str | None:
    """The operator whose token this is (BHYT_OPERATOR_TOKENS, name → token), or None.

    Every token is compared, in constant time, so the answer's timing does not tell which
    operator's token was close."""
    if not token:
        return None
    found = None
    for name, expected in settings.bhyt_operator_tokens.items():
        if secrets.compare_digest(token.encode(), expected.get_secret_value().encode()):
            found = name
    return found


def operator_caller(
    svc: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_operator_bearer)]
) -> str:
    """Operator actions carry `Authorization: Bearer <operator token>`: the answer is the operator's
    name, which the audit records (never a name from the body). The portal token is not one: 403."""
    token = credentials.credentials if credentials is not None else None
    name = operator_named(svc.settings, token)
    if name is not None:
        return name
    if token is not None and secrets.compare_digest(token.encode(), svc.settings.bhyt_api_token.encode()):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="an operator's token is required")
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="missing or invalid operator token",
        headers={"WWW-Authenticate": "Bearer"},
    )


OperatorName = Annotated[str, Depends(operator_caller)]
