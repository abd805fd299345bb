"""How workflow payloads are written into Temporal: pydantic JSON, then AES-GCM encrypted.

A household's declaration (names, personal numbers, dates of birth) travels as workflow input
and activity payloads, and Temporal keeps every payload in its history and shows it in the UI.
Encrypting them with a key only the worker, the API, the starter and the codec server hold keeps
personal data out of the history store; operators read payloads through the codec server
(api/codec_server.py), which decrypts for the Temporal UI of an authenticated operator.
Search attributes are never encrypted, so they carry no personal data.

Failures are encrypted too (`DefaultFailureConverterWithEncodedAttributes`): a failure's message
and stack trace go into an encoded payload and the history shows only "Encoded failure", so an
exception text that happens to carry a personal number never reaches the history in clear.

Keys form a ring: every payload names the id of the key that sealed it; the current key seals,
every key of the ring opens. Rotation is therefore two deployments: add the new key to the ring
everywhere, then make it current; the old key stays in the ring until no run still open (and no
history within retention one still wants to read) was written with it.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from config import Settings

log = logging.getLogger(__name__)

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12


class UnknownKeyError(ValueError):
    """A payload sealed with a key id this process does not hold (names the id, never the key)."""


REFUSED_ENCODING = b"binary/refused-plaintext"
"""What a refused plaintext payload decodes to in production: an encoding no converter reads.

Anyone who reaches Temporal's frontend can signal a run; an unencrypted `payment_received` or
`resolve_review` would otherwise be decoded and believed. Raising in the codec fails the whole
workflow task, again on every retry: the run is stuck and cannot answer a query (issue 21). This
marker carries none of the forged content; the SDK's converter refuses it for that one input
alone: the signal is dropped (logged by the SDK, run unchanged), an update is rejected."""


class EncryptionCodec(PayloadCodec):
    """AES-GCM with a key ring: `keys` maps key id → key; `current` names the one that encrypts.
    `require_encryption` (production) refuses payloads that carry no encryption."""

    def __init__(self, keys: Mapping[str, bytes], current: str, *, require_encryption: bool = False) -> None:
        if not keys:
            raise ValueError("the payload key ring is empty (BHYT_PAYLOAD_KEYS)")
        if current not in keys:
            raise ValueError(
                f"the current payload key id {current!r} is not in the key ring (BHYT_PAYLOAD_KEY_ID)"
            )
        self._ring: dict[bytes, AESGCM] = {}
        for key_id, key in keys.items():
            if len(key) not in (16, 24, 32):
                raise ValueError(
                    f"payload key {key_id!r} must be 16, 24 or 32 bytes (base64 in BHYT_PAYLOAD_KEYS)"
                )
            self._ring[key_id.encode()] = AESGCM(key)
        self._current = current.encode()
        self._require_encryption = require_encryption

    @classmethod
    def single(cls, key: bytes, key_id: str) -> EncryptionCodec:
        return cls({key_id: key}, key_id)

    @property
    def current_key_id(self) -> str:
        return self._current.decode()

    @property
    def key_ids(self) -> list[str]:
        return [k.decode() for k in self._ring]

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        aead = self._ring[self._current]
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = aead.encrypt(nonce, payload.SerializeToString(), self._current)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID_METADATA: self._current},
                    data=nonce + sealed,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                if self._require_encryption:
                    log.warning("payload without encryption refused (BHYT_ENV=production): not believed")
                    decoded.append(Payload(metadata={"encoding": REFUSED_ENCODING}))
                    continue
                decoded.append(payload)  # written before encryption was on, or not ours
                continue
            key_id = payload.metadata.get(KEY_ID_METADATA, b"")
            aead = self._ring.get(key_id)
            if aead is None:
                raise UnknownKeyError(
                    f"payload encrypted with unknown key id {key_id.decode(errors='replace')!r};"
                    f" this process holds {self.key_ids} (add it to BHYT_PAYLOAD_KEYS)"
                )
            nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
            inner = Payload()
            inner.ParseFromString(aead.decrypt(nonce, sealed, key_id))
            decoded.append(inner)
        return decoded


def parse_key(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value.encode() + b"=" * (-len(value) % 4))
    except ValueError as err:
        raise ValueError("a payload key must be base64 (url-safe) of 16, 24 or 32 bytes") from err


def codec(settings: Settings) -> EncryptionCodec:
    """The key ring of the configuration (BHYT_PAYLOAD_KEYS, current BHYT_PAYLOAD_KEY_ID)."""
    keys = {k.id: parse_key(k.key.get_secret_value()) for k in settings.bhyt_payload_keys}
    return EncryptionCodec(keys, settings.bhyt_payload_key_id, require_encryption=settings.production)


def data_converter(settings: Settings) -> DataConverter:
    """`pydantic_data_converter` with the encryption codec and encoded failure attributes: the one
    converter every client and worker uses."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
