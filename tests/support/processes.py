"""Start the project's services as real processes on free ports, and stop them cleanly.

Used by the adapter contract tests and the end-to-end tests alike: every test above the unit
level crosses a real socket, so these helpers are how a test gets "the registry" or "the bank".
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts.supervisor import NotReady, Supervised, free_port, http_status, spawn, wait_until

__all__ = [
    "ROOT",
    "ServiceProcess",
    "free_port",
    "start_bank",
    "start_registry",
    "start_service",
    "wait_for_http",
]

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: the working directory of every started process."""


def wait_for_http(
    url: str, *, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None, expect: int = 200
) -> None:
    """Poll `url` until it answers `expect`; fail fast if `process` dies while we wait."""
    try:
        wait_until(
            lambda: http_status(url, timeout=1.0) == expect,
            timeout=timeout,
            what=f"answering {expect} at {url}",
            process=process,
            interval=0.05,
        )
    except NotReady as exc:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {exc}") from None
        raise TimeoutError(f"{url} did not answer {expect} within {timeout:.0f}s") from None


@dataclass
class ServiceProcess:
    """One started service (the supervisor's `Supervised`) and where it listens; stops on exit."""

    name: str
    args: list[str]
    port: int
    host: str
    supervised: Supervised = field(repr=False)
    env: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.supervised.popen

    @property
    def log_path(self) -> Path:
        return self.supervised.log_path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @property
    def running(self) -> bool:
        return self.supervised.running

    def stop(self, timeout: float = 10.0) -> int | None:
        return self.supervised.stop(timeout)

    def log_tail(self, lines: int = 40) -> str:
        return self.supervised.log_tail(lines)

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

    Started, watched and stopped by the project's one supervisor (scripts/supervisor.py).
    """
    argv = [sys.executable if args[0] == "python" else args[0], *args[1:]]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH", "")]))
    log_dir = log_dir or ROOT / "var" / "test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{port}.log"
    supervised = spawn(name, argv, log_path=log_path, env=full_env, cwd=cwd, append=False)
    service = ServiceProcess(name, argv, port, host, supervised, dict(env or {}))
    if health_path is not None:
        try:
            wait_for_http(service.url(health_path), timeout=timeout, process=supervised.popen)
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
