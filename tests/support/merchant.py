"""A merchant that records the bank's IPN calls, for tests of the bank side of the callback.

It verifies the signature with the shared `adapters.ipn` module, answers from a per-order
plan of RspCodes (e.g. 99 first, then 00) so the bank's retries can be observed, and runs in
a uvicorn thread on a real socket so the bank simulator (another process) can reach it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request

from adapters import ipn
from tests.support.processes import free_port


class UvicornThread:
    """Serve an ASGI app from a daemon thread; a context manager. uvicorn skips signal handlers
    outside the main thread, so this is safe inside pytest."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host, self.port = host, port or free_port(host)
        self.server = uvicorn.Server(uvicorn.Config(app, host=self.host, port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> UvicornThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@dataclass(frozen=True)
class IpnCall:
    params: dict[str, str]
    signature_valid: bool
    answered: str
    at: datetime


@dataclass
class RecordingMerchant:
    """Thread-safe: the server thread appends, the test thread reads."""

    secret: str
    path: str = "/ipn"
    default_answer: str = ipn.RSP_OK
    calls: list[IpnCall] = field(default_factory=list)
    _plans: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, txn_ref: str, answers: Iterable[str]) -> None:
        """Answer the calls for `txn_ref` with these codes in turn, then keep the last one."""
        with self._lock:
            self._plans[txn_ref] = list(answers)

    def calls_for(self, txn_ref: str) -> list[IpnCall]:
        with self._lock:
            return [c for c in self.calls if c.params.get("vnp_TxnRef") == txn_ref]

    def answer_for(self, params: dict[str, str]) -> str:
        if not ipn.verify(params, self.secret):
            return ipn.RSP_INVALID_SIGNATURE
        with self._lock:
            plan = self._plans.get(params.get("vnp_TxnRef", ""))
            if not plan:
                return self.default_answer
            return plan.pop(0) if len(plan) > 1 else plan[0]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get(self.path)
        async def receive(request: Request) -> dict[str, str]:
            params = dict(request.query_params)
            answer = self.answer_for(params)
            with self._lock:
                self.calls.append(IpnCall(params, ipn.verify(params, self.secret), answer, datetime.now(UTC)))
            return ipn.ipn_answer(answer)

        return app

    async def wait_calls(self, txn_ref: str, count: int, *, within: float = 10.0) -> list[IpnCall]:
        """Wait (without blocking the event loop) until `count` calls for `txn_ref` arrived."""
        deadline = time.monotonic() + within
        while True:
            calls = self.calls_for(txn_ref)
            if len(calls) >= count:
                return calls
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(calls)} of {count} IPN calls for {txn_ref} within {within}s")
            await asyncio.sleep(0.02)
