"""Headless Chromium driven over the DevTools protocol on a pipe (no extra package, no port).

`--screenshot` alone shoots at the load event, before a single-page app such as the Temporal
UI has fetched and rendered anything; here the page's text is polled until it shows what the
test waits for, then the screenshot is taken. Messages are NUL-terminated JSON on fds 3 (to the
browser) and 4 (from it), as `--remote-debugging-pipe` defines.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    def __init__(self, executable: str, width: int = 1400, height: int = 1600) -> None:
        self._to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, self._from_child_w = os.pipe()
        self._profile = tempfile.mkdtemp(prefix="bhyt-chromium-")
        to_r, from_w = self._to_child_r, self._from_child_w

        def wire_fds() -> None:  # in the child: its fd 3 reads our commands, fd 4 writes answers
            high_r, high_w = os.dup(to_r), os.dup(from_w)  # either may be 3 or 4 already
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             f"--user-data-dir={self._profile}", f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds, pass_fds=(3, 4),  # kept open after preexec_fn
        )  # fmt: skip
        os.close(to_r)
        os.close(from_w)
        self._reader = os.fdopen(self._from_child_r, "rb", buffering=0)
        self._buffer = b""
        self._next_id = 0
        self.session: str | None = None

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session is not None and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._to_child_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\0" not in self._buffer:
                chunk = self._reader.read(65536)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return dict(answer.get("result") or {})
        raise TimeoutError(method)

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Page.navigate", {"url": url})

    def text(self) -> str:
        result = self.call("Runtime.evaluate", {"expression": "document.body ? document.body.innerText : ''"})
        return str(result.get("result", {}).get("value", ""))

    def wait_for_text(self, wanted: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if wanted in text:
                return text
            time.sleep(0.5)
        raise TimeoutError(f"{wanted!r} not on the page after {timeout:.0f} s; page text:\n{text[:3000]}")

    def click_text(self, label: str) -> bool:
        """Click the first button or link whose text is `label` (e.g. a collapsed section)."""
        script = (
            "(() => { const el = [...document.querySelectorAll('button, a, summary, [role=button]')]"
            f".find(e => e.innerText && e.innerText.trim() === {json.dumps(label)});"
            " if (el) { el.click(); return true; } return false; })()"
        )
        return bool(self.call("Runtime.evaluate", {"expression": script}).get("result", {}).get("value"))

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.session = None
            self.call("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_child_w)
        self._reader.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
