"""What one payload costs the worker and the API: pydantic JSON conversion and AES-GCM
encryption, per call, for the largest payloads of a renewal (its input, with the declaration,
and the application view the `quote` update returns).

Every activity call and result, signal, update and query goes through `data_converter`
(adapters/temporal_payloads.py) once each way; a renewal makes ~25 such conversions. This tells
whether the codec is worth optimising against the rest of a renewal's CPU (bench/floor.py
--profile shows the whole). A benchmark: prints figures, asserts nothing.

    .venv/bin/python -m bench.payloads [N]
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter

from adapters.temporal_payloads import data_converter
from config import Settings
from domain.application import ApplicationView, RenewalInput
from domain.models import ApplicationStatus, MemberOutcome
from domain.validation import parse_declaration

ROOT = Path(__file__).resolve().parent.parent


def samples() -> dict[str, object]:
    body = json.loads((ROOT / "data" / "demo_declaration.json").read_text(encoding="utf-8"))
    declaration = parse_declaration(body, today=datetime.now(UTC).date())
    now = datetime.now(UTC)
    request = RenewalInput(
        application_id="A" * 26,
        declaration=declaration,
        submitted_at=now,
        payment_deadline_seconds=86_400,
        receipt_series="BH26",
    )
    view = ApplicationView(
        application_id="A" * 26,
        status=ApplicationStatus.AWAITING_PAYMENT,
        submitted_at=now,
        updated_at=now,
        members=[MemberOutcome(card_number=m.card_number, result="pending") for m in declaration.members],
    )
    return {"RenewalInput (declaration)": request, "ApplicationView": view}


async def per_call(converter: object, value: object, n: int) -> tuple[float, float, int]:
    """µs to encode and to decode one value (pydantic JSON, then the codec if any)."""
    conv = converter  # DataConverter
    t0 = time.perf_counter()
    for _ in range(n):
        payloads = await conv.encode([value])  # type: ignore[attr-defined]
    t1 = time.perf_counter()
    for _ in range(n):
        await conv.decode(payloads, [type(value)])  # type: ignore[attr-defined]
    t2 = time.perf_counter()
    return (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6, len(payloads[0].SerializeToString())


async def main(n: int) -> None:
    plain = pydantic_data_converter
    encrypted = data_converter(Settings(_env_file=None))  # type: ignore[call-arg]
    no_codec = dataclasses.replace(encrypted, payload_codec=None)
    print(f"per payload, mean of {n} calls (µs): encode / decode / bytes")
    for name, value in samples().items():
        for label, conv in (
            ("pydantic only", plain),
            ("project (no codec)", no_codec),
            ("project + AES-GCM", encrypted),
        ):
            enc, dec, size = await per_call(conv, value, n)
            print(f"  {name:<28} {label:<20} {enc:7.1f} / {dec:7.1f} / {size:5d}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
