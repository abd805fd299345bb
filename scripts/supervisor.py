"""The one process supervisor: free ports, start a child with its log, wait until it is ready, stop it.

`make run` (scripts/stack.py), the tests' service helpers (tests/support/processes.py) and the
benchmarks (through Stack) all start processes with these functions, so a child is always
started, watched and stopped the same way. Standard library only: the container healthcheck
imports it too.

Every child runs in its own session (process group): a terminal's Ctrl-C reaches only the
supervisor, and stopping a child also stops whatever it started (SIGTERM to the group, SIGKILL
after a grace period, then SIGKILL for stragglers).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

LOCALHOST = "127.0.0.1"


class NotReady(RuntimeError):
    """A child exited, or did not become ready in time."""


# -- ports -------------------------------------------------------------------------------------


def free_ports(count: int, host: str = LOCALHOST) -> list[int]:
    """Ports the OS has free now; all sockets stay open until every port is picked so none repeats
    (a tiny race with other starters remains)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port(host: str = LOCALHOST) -> int:
    return free_ports(1, host)[0]


def port_in_use(port: int, host: str = LOCALHOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


# -- readiness ---------------------------------------------------------------------------------


def tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status `url` answers with, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - local URLs
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def http_ok(url: str) -> bool:
    """`url` answers 2xx."""
    status = http_status(url)
    return status is not None and 200 <= status < 300


def wait_until(
    ready: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    interval: float = 0.1,
) -> None:
    """Poll `ready` until it is true; NotReady when `process` exits first or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and (code := process.poll()) is not None:
            raise NotReady(f"exited with code {code} before {what}")
        if ready():
            return
        if time.monotonic() > deadline:
            raise NotReady(f"not {what} after {timeout:.0f} s")
        time.sleep(interval)


def rfc3339(value: str) -> float:
    """Seconds since the epoch of a timestamp Temporal prints (nanoseconds; Python parses micro)."""
    if not value:
        return 0.0
    head, _, frac = value.rstrip("Z").partition(".")
    frac = (frac + "000000")[:6]
    try:
        return datetime.fromisoformat(f"{head}.{frac}+00:00").timestamp()
    except ValueError:
        return 0.0


# -- start and stop ----------------------------------------------------------------------------


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Supervised:
    """One started child, its log, and when it started."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] = field(repr=False)
    started_at: float

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM to the child's process group, SIGKILL after `timeout`; safe to call twice."""
        pgid = self.popen.pid  # start_new_session: the child leads its own group
        if self.popen.poll() is None:
            signal_group(pgid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                signal_group(pgid, signal.SIGKILL)
                self.popen.wait()
        signal_group(pgid, signal.SIGKILL)  # grandchildren left behind by the leader
        self._close_log()
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL the group, as a crash would: no graceful shutdown."""
        signal_group(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        self._close_log()

    def _close_log(self) -> None:
        if not self.log_file.closed:
            self.log_file.close()


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    append: bool = True,
) -> Supervised:
    """Start `argv` in its own process group, output to `log_path` (a file, never a pipe: a pipe
    nobody reads fills up and freezes the child). `env` is the child's whole environment."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = open(log_path, "ab" if append else "wb")  # noqa: SIM115 - closed by stop()
    stamp = datetime.now().isoformat(timespec="seconds")
    log_file.write(f"\n===== {stamp} start: {' '.join(argv)}\n".encode())
    log_file.flush()
    popen = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Supervised(name, popen, log_path, log_file, time.monotonic())
