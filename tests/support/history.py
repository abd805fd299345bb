"""What a workflow history holds as stored: fetched without the codec, walked for every payload."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter


async def raw_history(client: Client, workflow_id: str) -> History:
    """The history as the server stores it: no codec, so encrypted payloads stay encrypted."""
    raw = Client(**{**client.config(), "data_converter": dataclasses.replace(pydantic_data_converter)})  # type: ignore[arg-type]
    fetched = await raw.get_workflow_handle(workflow_id).fetch_history()
    return History(events=fetched.events)


SDK_MARKER_METADATA = {("core_local_activity", "data"), ("core_patch", "patch-data")}
"""Marker details the SDK's core writes itself, outside the data converter (so in clear): a local
activity's bookkeeping (its type, sequence number, attempt, times — the result next to it is
ours, encrypted) and a patch's id. No application data: left out like search attributes."""


def payloads(message: Message, *, search_attributes: bool = False) -> Iterator[Payload]:
    """Every Payload anywhere in `message` (events, failures, headers, memos, map values).

    Search attributes are payloads too, stored in clear by design (no personal data in them):
    left out unless asked for."""
    if isinstance(message, Payload):
        yield message
        return
    marker = getattr(message, "marker_name", None) if type(message).__name__ == "MarkerRecordedEventAttributes" else None
    for field_desc, value in message.ListFields():
        if marker is not None and field_desc.name == "details":
            for key, entry in value.items():
                if (marker, key) not in SDK_MARKER_METADATA:
                    yield from payloads(entry, search_attributes=search_attributes)
            continue
        if field_desc.type != field_desc.TYPE_MESSAGE:
            continue
        if field_desc.message_type.name == "SearchAttributes" and not search_attributes:
            continue
        if field_desc.message_type.GetOptions().map_entry:
            items = list(value.values())
        elif isinstance(value, Message):
            items = [value]
        else:
            items = list(value)
        for item in items:
            if isinstance(item, Message):
                yield from payloads(item, search_attributes=search_attributes)
