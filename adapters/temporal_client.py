"""The one way this project connects to Temporal: the configured address and namespace, and the
project's data converter (pydantic + payload encryption, encoded failures), so every client
reads what every other wrote. The worker, the API, the starter and the checks of production.py
all go through here.

TLS, client certificates and the API key come from the Temporal SDK's environment configuration
(`temporalio.envconfig`: TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH,
TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME, TEMPORAL_API_KEY, or a profile of
TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE), so a deployment configures them the way every Temporal
tool is configured; address and namespace stay the project's own settings (DESIGN §5).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile
from temporalio.runtime import Runtime

from adapters.temporal_payloads import data_converter
from config import Settings


def connect_config(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Client.connect's arguments: the SDK's profile (file + TEMPORAL_* environment) with our address
    and namespace on top."""
    env = {
        **(os.environ if environ is None else environ),
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_NAMESPACE": settings.temporal_namespace,
    }
    profile = ClientConfigProfile.load(override_env_vars=env)
    return dict(profile.to_client_connect_config())


def secured(config: Mapping[str, Any]) -> bool:
    """TLS on, or an API key (which the SDK sends over TLS)."""
    return bool(config.get("tls")) or bool(config.get("api_key"))


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """`runtime`: the worker's, exporting the SDK metrics (metrics/worker.py); None for the default."""
    return await Client.connect(
        **connect_config(settings), data_converter=data_converter(settings), runtime=runtime
    )
