"""The one way this project connects to Temporal: the configured address and namespace, and the
project's data converter (pydantic + payload encryption), so every client reads what every
other wrote. The worker, the API and the starter all call `connect(settings)`.
"""

from __future__ import annotations

from temporalio.client import Client

from adapters.temporal_payloads import data_converter
from config import Settings


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
    )
