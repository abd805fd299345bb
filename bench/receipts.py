"""Time to render and to sign one e-receipt PDF (six members), and its size.

Both are CPU work the API runs off the event loop (`asyncio.to_thread`), once per PDF request.
Run: `.venv/bin/python -m bench.receipts [N]` (default 30 of each).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from adapters.receipt_pdf import render_receipt_pdf
from adapters.receipt_signing import ReceiptSigner, ensure_self_signed
from tests.support.receipts import six_member_document


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"median {statistics.median(ordered) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms"


def main(n: int = 30) -> None:
    doc = six_member_document()
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        ensure_self_signed(cert, key)
        signer = ReceiptSigner(cert, key)
        render_receipt_pdf(doc)  # warm-up: font parsing
        renders, signs = [], []
        for _ in range(n):
            start = time.perf_counter()
            pdf = render_receipt_pdf(doc)
            renders.append(time.perf_counter() - start)
            start = time.perf_counter()
            signed = signer.sign(pdf, reason="bench")
            signs.append(time.perf_counter() - start)
    print(f"e-receipt PDF, 6 members, {n} runs")
    print(f"  render  {_ms(renders)}   ({len(pdf) / 1024:.0f} KiB)")
    print(f"  sign    {_ms(signs)}   ({len(signed) / 1024:.0f} KiB signed)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
