"""Start the project's services as real processes on free ports, and stop them cleanly.

Used by the adapter contract tests and the end-to-end tests alike: every test above the unit
level crosses a real socket, so these helpers are how a test gets "the registry" or "the bank".
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: the working directory of every started process."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it; a tiny race with other starters remains)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_http(
    url: str, *, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None, expect: int = 200
) -> None:
    """Poll `url` until it answers `expect`; fail fast if `process` dies while we wait."""
    deadline = time.monotonic() + timeout
    last: str = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            response = httpx.get(url, timeout=1.0)
            if response.status_code == expect:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer {expect} within {timeout:.0f}s (last: {last})")


@dataclass
class ServiceProcess:
    """One started process; a context manager that always stops it (terminate, then kill)."""

    name: str
    args: list[str]
    port: int
    host: str
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_service(
    name: str,
    args: Sequence[str],
    *,
    port: int,
    host: str = "127.0.0.1",
    health_path: str | None = "/health",
    env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
    timeout: float = 20.0,
    cwd: Path = ROOT,
) -> ServiceProcess:
    """Start `args` (argv[0] may be "python" for this interpreter) and wait for its health URL.

    Output goes to a log file, not a pipe: a pipe nobody reads fills up and freezes the child.
    """
    argv = [sys.executable if args[0] == "python" else args[0], *args[1:]]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH", "")]))
    log_dir = log_dir or ROOT / "var" / "test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    service = ServiceProcess(name, argv, port, host, log_path, process, dict(env or {}))
    if health_path is not None:
        try:
            wait_for_http(service.url(health_path), timeout=timeout, process=process)
        except BaseException as exc:
            service.stop()
            raise RuntimeError(
                f"{name} did not start: {exc}\n--- {log_path} ---\n{service.log_tail()}"
            ) from exc
    return service


def _start_simulator(
    name: str,
    db_path: Path,
    extra_args: Sequence[str],
    *,
    port: int | None,
    env: Mapping[str, str] | None,
    log_dir: Path | None,
) -> ServiceProcess:
    """`python -m simulators.<name>` on `port` (or a free one) with its own SQLite file."""
    port = port or free_port()
    args = [
        "python",
        "-m",
        f"simulators.{name}",
        "--port",
        str(port),
        "--db",
        str(db_path),
        "--log-level",
        "warning",
        *extra_args,
    ]
    return start_service(name, args, port=port, env=env, log_dir=log_dir)


def start_registry(
    db_path: Path,
    *,
    port: int | None = None,
    load: Path | None = None,
    api_key: str | None = None,
    env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
) -> ServiceProcess:
    """`python -m simulators.registry` on a free port with its own SQLite file."""
    args: list[str] = []
    if load is not None:
        args += ["--load", str(load)]
    if api_key is not None:
        args += ["--api-key", api_key]
    return _start_simulator("registry", db_path, args, port=port, env=env, log_dir=log_dir)


def start_bank(
    db_path: Path,
    *,
    port: int | None = None,
    secret: str | None = None,
    tmn_code: str | None = None,
    retry_base_ms: int | None = None,
    max_attempts: int | None = None,
    env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
) -> ServiceProcess:
    """`python -m simulators.bank` on a free port; secret and merchant code go in as BHYT_* env."""
    args: list[str] = []
    if retry_base_ms is not None:
        args += ["--retry-base-ms", str(retry_base_ms)]
    if max_attempts is not None:
        args += ["--max-attempts", str(max_attempts)]
    extra = dict(env or {})
    if secret is not None:
        extra["BHYT_IPN_SECRET"] = secret
    if tmn_code is not None:
        extra["BHYT_TMN_CODE"] = tmn_code
    return _start_simulator("bank", db_path, args, port=port, env=extra, log_dir=log_dir)
