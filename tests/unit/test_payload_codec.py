"""The payload codec: round trip, tamper detection, unknown key."""

from __future__ import annotations

import base64

import pytest
from temporalio.api.common.v1 import Payload

from adapters.temporal_payloads import EncryptionCodec, parse_key

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")


async def test_round_trip_and_nothing_in_clear() -> None:
    codec = EncryptionCodec(parse_key(KEY), "k1")
    original = Payload(metadata={"encoding": b"json/plain"}, data=b'{"personal_id": "001080012345"}')
    [sealed] = await codec.encode([original])
    assert b"001080012345" not in sealed.SerializeToString()
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    [opened] = await codec.decode([sealed])
    assert opened == original


async def test_same_payload_encrypts_differently_each_time() -> None:
    codec = EncryptionCodec(parse_key(KEY), "k1")
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b"{}")
    [a], [b] = await codec.encode([payload]), await codec.encode([payload])
    assert a.data != b.data


async def test_tampered_payload_is_refused() -> None:
    codec = EncryptionCodec(parse_key(KEY), "k1")
    [sealed] = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b'{"amount": 100}')])
    sealed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        await codec.decode([sealed])


async def test_unknown_key_id_is_refused_and_plain_payloads_pass() -> None:
    [sealed] = await EncryptionCodec(parse_key(KEY), "old").encode([Payload(data=b"x")])
    codec = EncryptionCodec(parse_key(KEY), "new")
    with pytest.raises(ValueError, match="unknown key id"):
        await codec.decode([sealed])
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b"1")
    assert await codec.decode([plain]) == [plain]


def test_key_must_have_an_aes_length() -> None:
    with pytest.raises(ValueError, match="16, 24 or 32 bytes"):
        EncryptionCodec(b"short", "k")
