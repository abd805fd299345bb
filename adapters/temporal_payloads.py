"""How workflow payloads are written into Temporal: pydantic JSON, then AES-GCM encrypted.

A household's declaration (names, personal numbers, dates of birth) travels as workflow input
and activity payloads, and Temporal keeps every payload in its history and shows it in the UI.
Encrypting them with a key only the worker, the API and the starter hold keeps personal data out
of the history store and out of what operators see; operators work with the search attributes
(no personal data) and the activity summaries instead. Search attributes are never encrypted.
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

from config import Settings

ENCODING = b"binary/encrypted"
NONCE_BYTES = 12


class EncryptionCodec(PayloadCodec):
    def __init__(self, key: bytes, key_id: str) -> None:
        if len(key) not in (16, 24, 32):
            raise ValueError("the payload key must be 16, 24 or 32 bytes (base64 in BHYT_PAYLOAD_KEY)")
        self._aead = AESGCM(key)
        self._key_id = key_id.encode()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = self._aead.encrypt(nonce, payload.SerializeToString(), self._key_id)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, "encryption-key-id": self._key_id},
                    data=nonce + sealed,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload)  # written before encryption was on, or not ours
                continue
            key_id = payload.metadata.get("encryption-key-id", b"")
            if key_id != self._key_id:
                raise ValueError(f"payload encrypted with unknown key id {key_id.decode(errors='replace')!r}")
            nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
            inner = Payload()
            inner.ParseFromString(self._aead.decrypt(nonce, sealed, key_id))
            decoded.append(inner)
        return decoded


def parse_key(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value.encode() + b"=" * (-len(value) % 4))
    except ValueError as err:
        raise ValueError("BHYT_PAYLOAD_KEY must be base64 (url-safe) of 16, 24 or 32 bytes") from err


def data_converter(settings: Settings) -> DataConverter:
    """`pydantic_data_converter` with the encryption codec: the one converter every client and worker uses."""
    codec = EncryptionCodec(parse_key(settings.bhyt_payload_key), settings.bhyt_payload_key_id)
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)
