"""The public lookup page in a real browser: headless Chromium screenshots it into the test's
output folder, and the page shows the same figures as the signed PDF served next to it.

Chromium comes from Debian (`.ci/run` installs it); without it the test skips locally and fails
under CI, like the PostgreSQL tests.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import socket
import unicodedata
from html.parser import HTMLParser

import httpx
import pytest
import uvicorn
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from api.app import create_app
from tests.support.receipt_api import issued_receipt_db, receipt_settings

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    reason = f"no headless Chromium on PATH (tried {', '.join(BROWSERS)}); apt-get install chromium"
    if os.environ.get("CI"):
        pytest.fail(reason + " — CI requires it (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Cells(HTMLParser):
    """The text of the page's cells by CSS class/id: what a reader sees in the table."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, list[str]] = {}
        self._stack: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        key = a.get("id") or (a.get("class") or "").split(" ")[-1] or None
        self._stack.append(key if key in {"card", "name", "amount", "total", "words", "payer"} else None)

    def handle_endtag(self, tag):
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if self._stack and self._stack[-1]:
            self.found.setdefault(self._stack[-1], []).append(data.strip())


async def test_lookup_page_screenshot_shows_the_figures_of_the_pdf(tmp_path):
    browser = _browser()
    port = _free_port()
    settings = receipt_settings(tmp_path, bhyt_public_url=f"http://127.0.0.1:{port}")
    db, code = await issued_receipt_db(settings)
    app = create_app(settings, temporal=object(), db=db)  # type: ignore[arg-type]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{port}/receipts/{code}"
    shot = tmp_path / "receipt-lookup.png"
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.05)
        browser_run = await asyncio.create_subprocess_exec(
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1000,1400",
            f"--screenshot={shot}",
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(browser_run.communicate(), timeout=120)
        async with httpx.AsyncClient() as client:
            page = (await client.get(url)).text
            pdf = (await client.get(url, params={"format": "pdf"})).content
    finally:
        server.should_exit = True
        await serving
        await db.dispose()

    assert browser_run.returncode == 0, output.decode(errors="replace")[-2000:]
    image = Image.open(shot)
    assert image.format == "PNG" and image.size == (1000, 1400)
    colours = image.convert("L").getcolors(maxcolors=256 * 256)
    assert colours is not None and len(colours) > 16, "the screenshot looks blank"
    print(f"screenshot: {shot}")
    # the QR code on the rendered page, read back from the pixels, is the page's own address
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [url]

    cells = _Cells()
    cells.feed(page)
    shown = cells.found
    assert len(shown["card"]) == len(shown["name"]) == len(shown["amount"]) == 6
    text = unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    for figure in (
        shown["card"] + shown["name"] + shown["amount"] + shown["total"] + shown["words"] + shown["payer"]
    ):
        assert figure in text, figure
    pdf_amounts = re.findall(r"\b\d{1,3}(?:\.\d{3})+\b", text)
    assert pdf_amounts == shown["amount"] + shown["total"]
