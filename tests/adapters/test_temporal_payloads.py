"""The payload codec: round trip, tamper detection, the key ring (current encrypts, all decrypt)."""

from __future__ import annotations

import base64
import json

import pytest
from temporalio.api.common.v1 import Payload

from adapters.temporal_payloads import (
    REFUSED_ENCODING,
    EncryptionCodec,
    UnknownKeyError,
    codec,
    parse_key,
)
from config import Settings

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")
KEY2 = base64.urlsafe_b64encode(bytes(range(32, 64))).decode()


async def test_round_trip_and_nothing_in_clear() -> None:
    codec = EncryptionCodec.single(parse_key(KEY), "k1")
    original = Payload(metadata={"encoding": b"json/plain"}, data=b'{"personal_id": "001080012345"}')
    [sealed] = await codec.encode([original])
    assert b"001080012345" not in sealed.SerializeToString()
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    [opened] = await codec.decode([sealed])
    assert opened == original


async def test_same_payload_encrypts_differently_each_time() -> None:
    codec = EncryptionCodec.single(parse_key(KEY), "k1")
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b"{}")
    [a], [b] = await codec.encode([payload]), await codec.encode([payload])
    assert a.data != b.data


async def test_tampered_payload_is_refused() -> None:
    codec = EncryptionCodec.single(parse_key(KEY), "k1")
    [sealed] = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b'{"amount": 100}')])
    sealed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        await codec.decode([sealed])


async def test_unknown_key_id_is_refused_and_plain_payloads_pass() -> None:
    [sealed] = await EncryptionCodec.single(parse_key(KEY), "old").encode([Payload(data=b"x")])
    codec = EncryptionCodec.single(parse_key(KEY), "new")
    with pytest.raises(UnknownKeyError, match="unknown key id 'old'"):
        await codec.decode([sealed])
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b"1")
    assert await codec.decode([plain]) == [plain]


async def test_ring_current_key_encrypts_and_every_key_decrypts() -> None:
    old = EncryptionCodec.single(parse_key(KEY), "2026-10")
    ring = EncryptionCodec({"2026-10": parse_key(KEY), "2026-11": parse_key(KEY2)}, "2026-11")
    [by_old] = await old.encode([Payload(data=b"written before the rotation")])
    [by_ring] = await ring.encode([Payload(data=b"written after")])
    assert by_ring.metadata["encryption-key-id"] == b"2026-11"
    assert [p.data for p in await ring.decode([by_old, by_ring])] == [
        b"written before the rotation",
        b"written after",
    ]
    with pytest.raises(UnknownKeyError):  # a process not yet given the new key cannot read it
        await old.decode([by_ring])


def test_ring_from_settings_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [{"id": "2026-10", "key": KEY}, {"id": "2026-11", "key": KEY2}]
    monkeypatch.setenv("BHYT_PAYLOAD_KEYS", json.dumps(keys))
    monkeypatch.setenv("BHYT_PAYLOAD_KEY_ID", "2026-11")
    built = codec(Settings(_env_file=None))  # type: ignore[call-arg]
    assert built.key_ids == ["2026-10", "2026-11"] and built.current_key_id == "2026-11"
    assert KEY2 not in repr(Settings(_env_file=None))  # type: ignore[call-arg]


def test_current_key_must_be_in_the_ring() -> None:
    with pytest.raises(ValueError, match="'k9' is not in the key ring"):
        EncryptionCodec({"k1": parse_key(KEY)}, "k9")


def test_key_must_have_an_aes_length() -> None:
    with pytest.raises(ValueError, match="16, 24 or 32 bytes"):
        EncryptionCodec.single(b"short", "k")


async def test_production_refuses_a_payload_that_carries_no_encryption() -> None:
    """Issue 21: anyone reaching Temporal could signal a plaintext `payment_received`; in production
    the worker's (and every client's) codec refuses it, and it still opens its own payloads."""
    ring = json.dumps([{"id": "k1", "key": KEY}])
    forged = Payload(metadata={"encoding": b"json/plain"}, data=b'{"amount": 1}')
    production = codec(
        Settings(_env_file=None, bhyt_env="production", bhyt_payload_keys=ring, bhyt_payload_key_id="k1")
    )  # type: ignore[call-arg]
    [refused] = await production.decode([forged])
    assert refused.metadata["encoding"] == REFUSED_ENCODING and refused.data == b""  # nothing of it
    [sealed] = await production.encode([forged])
    assert await production.decode([sealed]) == [forged]
    development = codec(Settings(_env_file=None, bhyt_payload_keys=ring, bhyt_payload_key_id="k1"))  # type: ignore[call-arg]
    assert await development.decode([forged]) == [forged]  # histories written before encryption
