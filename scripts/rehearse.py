"""`make rehearse`: the production configuration, run for real on this machine behind nginx over TLS.

docker-compose.yml can only be read here (no Docker engine), so this runs what it would run, as
processes: `BHYT_ENV=production` for every one of them, a PostgreSQL database of its own, secrets
and a payload key generated for the run (never the development ones), a CA created for the run
that issues the proxy's TLS certificate and the receipt signing certificate, the Temporal dev
server as the stand-in for a Temporal cluster, and nginx (Debian's package, installed when
missing) as the TLS reverse proxy that publishes the API and the public receipt pages, and
nothing else. Then, through `https://` on the proxy, it checks what an operator would: a
household declared, paid at the bank simulator (whose IPN reaches us through the proxy), completed;
the receipt PDF fetched and its signature validated up to the CA; the public page; `/metrics`
and the codec server not reachable through the proxy; the checks compose runs (migration job,
healthchecks, refusals of development values); no credential in any log. A load phase follows
(renewals through the proxy, public lookups from many client addresses, a flood from one
address that leaves another's lookups working). It prints a table and exits 1 on any miss.

    python -m scripts.rehearse                        # the full load: 200 renewals, 2,000 lookups
    python -m scripts.rehearse --renewals 30 --lookups 300    # what the e2e test runs
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import re
import secrets
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from config import Settings  # noqa: E402
from scripts.rehearsal_pki import Pki, create_pki  # noqa: E402
from scripts.rehearsal_proxy import NginxMissing, nginx_binary, nginx_command, write_nginx_conf  # noqa: E402
from scripts.stack import Ports, Stack, StackError  # noqa: E402
from scripts.supervisor import LOCALHOST, NotReady, Supervised, free_ports, spawn, wait_until  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOOKUPS_PER_MINUTE = 120
"""The rehearsal's per-client limit: above what one load address sends (100), below the flood."""
OUR_PROCESSES = {"api", "worker", "codec", "nginx"}
"""Whose logs are the deployment's (the simulators stand for the bank's and the registry's own)."""
LOAD_ADDRESSES = [f"127.0.0.{n}" for n in range(10, 30)]
FLOOD_ADDRESS, NEIGHBOUR_ADDRESS, BORROWER_ADDRESS = "127.0.0.2", "127.0.0.3", "127.0.0.4"


# -- the table -------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, bool(ok), detail))
        print(f"  {'ok  ' if ok else 'MISS'} {name}{'  — ' + detail if detail else ''}", flush=True)
        return bool(ok)

    def table(self) -> str:
        width = max(len(c.name) for c in self.checks) if self.checks else 10
        lines = [f"{'check':<{width}}  result  detail", f"{'-' * width}  ------  ------"]
        for c in self.checks:
            lines.append(f"{c.name:<{width}}  {'ok' if c.ok else 'MISS':<6}  {c.detail}")
        return "\n".join(lines)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


# -- the production configuration -------------------------------------------------------------------


@dataclass
class Secrets:
    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    ipn_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    tmn_code: str = field(default_factory=lambda: "BHXH" + secrets.token_hex(2).upper())
    registry_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    webhook_secret: str = field(default_factory=lambda: "whsec_" + base64.b64encode(os.urandom(32)).decode())
    operator_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    metrics_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    payload_key: str = field(default_factory=lambda: base64.urlsafe_b64encode(os.urandom(32)).decode())

    def values(self) -> list[str]:
        return [v for k, v in vars(self).items() if k != "tmn_code"]


def production_env(secrets_: Secrets, pki: Pki, public_url: str) -> dict[str, str]:
    """What compose's `x-app-env` gives every container, with this run's values."""
    return {
        "BHYT_ENV": "production",
        "BHYT_LOG_FORMAT": "json",
        "BHYT_PUBLIC_URL": public_url,
        "BHYT_TRUSTED_PROXIES": LOCALHOST,  # nginx reaches the API from here
        "BHYT_PAYLOAD_KEYS": json.dumps([{"id": "rehearsal-1", "key": secrets_.payload_key}]),
        "BHYT_PAYLOAD_KEY_ID": "rehearsal-1",
        "BHYT_API_TOKEN": secrets_.api_token,
        "BHYT_IPN_SECRET": secrets_.ipn_secret,
        "BHYT_TMN_CODE": secrets_.tmn_code,
        "REGISTRY_API_KEY": secrets_.registry_key,
        "NOTIFY_WEBHOOK_SECRET": secrets_.webhook_secret,
        "BHYT_OPERATOR_TOKENS": json.dumps(
            {"rehearsal.operator": secrets_.operator_token, "prometheus": secrets_.metrics_token}
        ),
        "BHYT_RECEIPT_SELF_SIGNED": "false",
        "BHYT_RECEIPT_CERT_FILE": str(pki.receipt_cert),
        "BHYT_RECEIPT_KEY_FILE": str(pki.receipt_key),
        "BHYT_RECEIPT_TEMPLATE": "01BLP0-002",
        "BHYT_RECEIPT_ISSUER_TAX_CODE": "0101234567",
        "BHYT_RECEIPT_LOOKUPS_PER_MINUTE": str(LOOKUPS_PER_MINUTE),
        "BHYT_METRICS_REFRESH_SECONDS": "5",
        # the dev server listens on loopback only: the stand-in for compose's private network
        "TEMPORAL_PLAINTEXT_PRIVATE_NETWORK": "true",
        # the bank simulator posts its IPN to https://<proxy>: it trusts the rehearsal's CA
        "SSL_CERT_FILE": str(pki.ca_cert),
    }


class ProductionStack(Stack):
    """The project's Stack, with no operator token in the dev UI's codec URL (production refuses it)."""

    @property
    def ui_codec_endpoint(self) -> str:
        return self.env["BHYT_CODEC_URL"]


async def create_database(admin_url: str) -> str:
    import asyncpg

    name = f"bhyt_rehearsal_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def database_url(admin_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)


# -- HTTP through the proxy ------------------------------------------------------------------------


@dataclass
class Traffic:
    """Every request the rehearsal sends through the proxy: status and seconds."""

    statuses: Counter[int] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def send(
        self, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
    ) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.errors.append(f"{method} {url.split('?')[0][:60]}: {type(exc).__name__}")
            return None
        self.seconds.append(time.perf_counter() - t0)
        self.statuses[response.status_code] += 1
        return response

    def figures(self, label: str, wall: float, unit_count: int | None = None, unit: str = "") -> str:
        n = len(self.seconds)
        p50 = percentile(self.seconds, 50)
        p99 = percentile(self.seconds, 99)
        rate = f"{n / wall:,.1f} requests/s" if wall else "-"
        units = f", {unit_count / wall:,.2f} {unit}/s" if unit_count and wall else ""
        fivexx = sum(c for s, c in self.statuses.items() if s >= 500)
        return (
            f"{label}: {n:,} requests in {wall:.1f} s ({rate}{units}); p50 {p50 * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms; errors {len(self.errors)}, 5xx {fivexx}; statuses {dict(sorted(self.statuses.items()))}"
        )


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def tls_context(pki: Pki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca_cert))


def proxy_client(
    base_url: str, ctx: ssl.SSLContext, *, source: str | None = None, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(verify=ctx, local_address=source, retries=0)
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        headers=headers,
        timeout=60,
        limits=httpx.Limits(max_keepalive_connections=20, keepalive_expiry=2.0),
    )


# -- the rehearsal ---------------------------------------------------------------------------------


class Rehearsal:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.report = Report()
        self.secrets = Secrets()
        self.work = Path(args.work_dir or tempfile.mkdtemp(prefix="bhyt-rehearsal-")).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.work.chmod(0o755)  # nginx's worker reads under it
        self.stack: ProductionStack | None = None
        self.nginx: Supervised | None = None
        self.nginx_dir = self.work / "nginx"
        self.database: str | None = None
        self.declarations: list[dict[str, Any]] = []

    # start and stop

    async def start(self) -> None:
        from bench.households import declarations, generate

        binary = nginx_binary(install=not self.args.no_install)
        self.pki = create_pki(self.work / "pki")
        self.database = await create_database(self.args.admin_url)
        data = generate(self.args.renewals + 2, members=2, seed=21)  # + the first + the forged signal's
        data_file = self.work / "households.json"
        data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        self.declarations = declarations(data)
        stack = ProductionStack(
            self.work / "var",
            Ports.free(),
            database_url=database_url(self.args.admin_url, self.database),
            settings=Settings(_env_file=None),  # type: ignore[call-arg]
            seed=data_file,
            progress=lambda line: print(line, flush=True),
        )
        taken = set(stack.ports.named().values())
        self.proxy_port = next(p for p in free_ports(12) if p not in taken)
        self.public_url = f"https://{LOCALHOST}:{self.proxy_port}"
        stack.env.update(production_env(self.secrets, self.pki, self.public_url))
        self.stack = stack
        print(
            f"rehearsal in {self.work}: PostgreSQL database {self.database}, proxy {self.public_url}",
            flush=True,
        )
        stack.start()
        conf = write_nginx_conf(
            self.nginx_dir, listen_port=self.proxy_port, api_port=stack.ports.api, pki=self.pki
        )
        self.nginx = spawn(
            "nginx",
            nginx_command(binary, self.nginx_dir, conf),
            log_path=self.nginx_dir / "nginx.out.log",
            env=dict(os.environ),
            cwd=self.nginx_dir,
        )
        ctx = tls_context(self.pki)

        def serving() -> bool:
            try:
                return httpx.get(f"{self.public_url}/health", verify=ctx, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_until(serving, timeout=30, what=f"nginx serving {self.public_url}", process=self.nginx.popen)
        except NotReady as exc:
            raise StackError("nginx", str(exc), self.nginx_dir / "error.log") from None
        print("  nginx     ready", flush=True)

    async def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        if self.stack is not None:
            self.stack.stop()
        if self.database is not None and not self.args.keep:
            try:
                await drop_database(self.args.admin_url, self.database)
            except Exception as exc:  # noqa: BLE001 - reported, the rehearsal's verdict stands
                print(f"could not drop database {self.database}: {type(exc).__name__}", file=sys.stderr)

    # helpers

    @property
    def s(self) -> ProductionStack:
        assert self.stack is not None
        return self.stack

    def portal(self, source: str | None = None) -> httpx.AsyncClient:
        return proxy_client(
            self.public_url, tls_context(self.pki), source=source,
            headers={"Authorization": f"Bearer {self.secrets.api_token}"},
        )  # fmt: skip

    def bank(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.s.urls.bank, timeout=60)

    async def renew(
        self, portal: httpx.AsyncClient, bank: httpx.AsyncClient, traffic: Traffic, household: int
    ) -> tuple[str | None, str]:
        """Declare through the proxy, pay at the bank, poll through the proxy until it ends."""
        response = await traffic.send(
            portal, "POST", "/api/v1/renewals",
            json=self.declarations[household], headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        if response is None or response.status_code not in (201, 202):
            return None, f"declare answered {response.status_code if response is not None else 'nothing'}"
        view = response.json()
        application_id = view["application_id"]
        view = await self.poll(portal, traffic, application_id, view, {"verifying"})
        if view.get("status") != "awaiting_payment":
            return application_id, f"declared: {view.get('status')}"
        paid = await bank.post(f"/api/v1/orders/{view['payment']['txn_ref']}/pay", json={})
        if paid.status_code != 202:
            return application_id, f"bank pay answered {paid.status_code}"
        view = await self.poll(portal, traffic, application_id, view, {"awaiting_payment", "allocating"})
        return application_id, view.get("status", "?")

    async def poll(
        self,
        portal: httpx.AsyncClient,
        traffic: Traffic,
        application_id: str,
        view: dict,
        waiting: set[str],
        within: float = 180,
    ) -> dict:
        deadline = time.monotonic() + within
        while view.get("status") in waiting and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            response = await traffic.send(portal, "GET", f"/api/v1/renewals/{application_id}")
            if response is not None and response.status_code == 200:
                view = response.json()
        return view

    # the checks

    async def run(self) -> None:
        await asyncio.to_thread(self.configuration_checks)
        receipt = await self.functional_checks()
        await self.exposure_checks()
        await self.forged_signal_check()
        if receipt is not None:
            await self.rate_limit_checks(receipt["public_code"])
        codes = await self.load_renewals()
        if codes:
            await self.load_lookups(codes)
        self.log_checks(receipt)

    def configuration_checks(self) -> None:
        """What compose would check before and after `up`: refusals, the migration job, healthchecks."""
        from production import problems

        r, s = self.report, self.s
        found = problems(s.settings, environ={k: v for k, v in s.env.items() if k.startswith("TEMPORAL_")})
        r.check("production.py passes the rehearsal's configuration", not found, "; ".join(found))
        dev_values = {
            "dev-portal-token",
            "dev-ipn-secret",
            "dev-operator-token",
            "ZGV2LW9ubHktcGF5bG9hZC1rZXktMzItYnl0ZXMhISE",
        }
        r.check("no development value in the environment", not (dev_values & set(s.env.values())))
        env = {**os.environ, **s.env, "BHYT_PUBLIC_URL": "http://api:8000", "PYTHONUNBUFFERED": "1"}
        done = subprocess.run(
            [sys.executable, "-m", "api"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        r.check(
            "an internal BHYT_PUBLIC_URL (compose's old default) stops the API",
            done.returncode != 0 and "BHYT_PUBLIC_URL" in done.stderr and "api:8000" not in done.stderr,
            f"exit {done.returncode}",
        )
        for what, argv in (
            ("api", ["http", f"{s.urls.api}/health"]),
            ("codec", ["http", f"{s.urls.codec}/health"]),
            ("worker", ["worker"]),
        ):
            hc = subprocess.run(
                [sys.executable, "-m", "scripts.healthcheck", *argv],
                cwd=ROOT,
                env={**os.environ, **s.env},
                capture_output=True,
                timeout=60,
                check=False,
            )
            r.check(f"compose healthcheck of the {what} passes", hc.returncode == 0, f"exit {hc.returncode}")
        r.check(
            "migrations ran on PostgreSQL (compose's migrate job)",
            s.timings.get("migrate") is not None,
            s.env["DATABASE_URL"].split("@")[-1],
        )

    async def functional_checks(self) -> dict | None:
        r = self.report
        traffic = Traffic()
        async with self.portal() as portal, self.bank() as bank:
            health = await traffic.send(portal, "GET", "/health")
            r.check(
                "TLS: the proxy's certificate verifies against the rehearsal CA",
                health is not None and health.status_code == 200,
            )
            try:
                async with httpx.AsyncClient(timeout=5) as plain_client:
                    plain = await plain_client.get(f"http://{LOCALHOST}:{self.proxy_port}/health")
                r.check(
                    "plain HTTP on the proxy's port is refused",
                    plain.status_code == 400,
                    f"answered {plain.status_code}",
                )
            except httpx.HTTPError as exc:
                r.check("plain HTTP on the proxy's port is refused", True, type(exc).__name__)
            application_id, status = await self.renew(portal, bank, traffic, 0)
            r.check("declared, paid at the bank, completed (through https)", status == "completed", status)
            if application_id is None:
                return None
            view = (await portal.get(f"/api/v1/renewals/{application_id}")).json()
            txn_ref = (view.get("payment") or {}).get("txn_ref", "")
            order = (await bank.get(f"/api/v1/orders/{txn_ref}")).json()
            attempts = order.get("ipn_attempts") or []
            r.check(
                "the bank's IPN reached the API through the proxy (RspCode 00)",
                order.get("ipn_url", "").startswith(f"{self.public_url}/api/v1/payments/ipn")
                and any(a.get("rsp_code") == "00" for a in attempts),
                f"{len(attempts)} attempt(s)",
            )
            answer = await portal.get(f"/api/v1/renewals/{application_id}/receipt")
            if answer.status_code != 200:
                r.check("receipt issued", False, f"answered {answer.status_code}")
                return None
            receipt = answer.json()
            r.check(
                "the receipt's link is the public https address",
                receipt["lookup_url"].startswith(f"{self.public_url}/receipts/"),
            )
            async with proxy_client(self.public_url, tls_context(self.pki)) as anyone:
                page = await anyone.get(receipt["lookup_url"])
                pdf = await anyone.get(receipt["lookup_url"], params={"format": "pdf"})
            cards = [line["card_number"] for line in receipt["lines"]]
            r.check(
                "public lookup page through the proxy: 200, cards masked, no payment code",
                page.status_code == 200 and "BIÊN LAI THU TIỀN" in page.text
                and not any(c in page.text for c in cards) and txn_ref not in page.text,
                f"answered {page.status_code}",
            )  # fmt: skip
            valid, detail = (
                await validate_pdf(pdf.content, self.pki)
                if pdf.status_code == 200
                else (False, f"answered {pdf.status_code}")
            )
            r.check("receipt PDF: signature intact and trusted up to the rehearsal CA", valid, detail)
            self.first = {"application_id": application_id, "txn_ref": txn_ref, "receipt": receipt}
            return receipt

    async def exposure_checks(self) -> None:
        r, s = self.report, self.s
        async with proxy_client(self.public_url, tls_context(self.pki)) as anyone:
            for path, method in (
                ("/metrics", "GET"),
                ("/docs", "GET"),
                ("/decode", "POST"),
                ("/o/x/decode", "POST"),
                ("/login", "GET"),
            ):
                answer = await anyone.request(method, path)
                r.check(
                    f"{method} {path} not reachable through the proxy",
                    answer.status_code == 404,
                    f"answered {answer.status_code}",
                )
            operator_metrics = await anyone.get(
                "/metrics", headers={"Authorization": f"Bearer {self.secrets.metrics_token}"}
            )
            r.check(
                "/metrics not reachable through the proxy even with a token",
                operator_metrics.status_code == 404,
            )
        async with httpx.AsyncClient(timeout=30) as local:
            anonymous = await local.get(f"{s.urls.api}/metrics")
            scraped = await local.get(
                f"{s.urls.api}/metrics", headers={"Authorization": f"Bearer {self.secrets.metrics_token}"}
            )
            r.check(
                "/metrics on the API's own address: 401 without an operator token",
                anonymous.status_code == 401,
            )
            r.check(
                "/metrics with the scraper's operator token: the business gauges",
                scraped.status_code == 200 and "bhyt_applications{" in scraped.text,
                f"answered {scraped.status_code}",
            )
            forged = {
                "payloads": [
                    {
                        "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                        "data": base64.b64encode(b"{}").decode(),
                    }
                ]
            }
            decoded = await local.post(
                f"{s.urls.codec}/decode",
                json=forged,
                headers={"Authorization": f"Bearer {self.secrets.operator_token}"},
            )
            r.check(
                "codec server refuses a payload without encryption",
                decoded.status_code == 400 and "PlaintextPayload" in decoded.text,
                f"answered {decoded.status_code}",
            )
            dev_path = await local.post(f"{s.urls.codec}/o/{self.secrets.operator_token}/decode", json=forged)
            r.check(
                "codec server refuses the token-in-path endpoint",
                dev_path.status_code == 401,
                f"answered {dev_path.status_code}",
            )

    async def forged_signal_check(self) -> None:
        """Finding 7: whoever reaches Temporal's frontend signals a run without the key ring. The
        worker's codec refuses the plaintext payload and the SDK drops that signal: no workflow
        task fails, the run never sees the payment, and the portal's GET still answers at once
        with `awaiting_payment` (before, the task failed on every retry and the GET waited for
        the query's timeout)."""
        from datetime import UTC, datetime

        from temporalio.api.enums.v1 import EventType
        from temporalio.client import Client
        from temporalio.contrib.pydantic import pydantic_data_converter

        from adapters.temporal_client import connect
        from workflows.contract import SIGNAL_PAYMENT_RECEIVED, workflow_id

        r, s = self.report, self.s
        household = self.args.renewals + 1
        async with self.portal() as portal:
            declared = await portal.post(
                "/api/v1/renewals",
                json=self.declarations[household],
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            view = await self.poll(
                portal, Traffic(), declared.json()["application_id"], declared.json(), {"verifying"}
            )
            application_id, payment = view["application_id"], view.get("payment") or {}
            outsider = await Client.connect(
                s.env["TEMPORAL_ADDRESS"],
                namespace=s.env["TEMPORAL_NAMESPACE"],
                data_converter=pydantic_data_converter,
            )
            forged = {
                "txn_ref": payment.get("txn_ref", ""), "amount": payment.get("amount", 0), "bank_code": "NCB",
                "bank_tran_no": "FORGED1", "transaction_no": "99999999", "pay_date": datetime.now(UTC).isoformat(),
                "response_code": "00", "transaction_status": "00",
            }  # fmt: skip
            await outsider.get_workflow_handle(workflow_id(application_id)).signal(
                SIGNAL_PAYMENT_RECEIVED, forged
            )
            ours = await connect(s.settings)
            handle = ours.get_workflow_handle(workflow_id(application_id))
            signaled, failed = False, ""
            deadline = time.monotonic() + 30
            while not signaled and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                seen_signal = False
                async for event in handle.fetch_history_events():
                    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                        seen_signal = True
                    elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                        error = await ours.data_converter.decode_failure(
                            event.workflow_task_failed_event_attributes.failure
                        )
                        failed = f"{getattr(error, 'type', '')} {error}"[:100]
                    elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and seen_signal:
                        signaled = True
            started = time.monotonic()
            after = await portal.get(f"/api/v1/renewals/{application_id}")
            answered_in = time.monotonic() - started
            body = after.json() if after.status_code == 200 else {}
            await handle.terminate("rehearsal: the run that received a forged signal")
        r.check(
            "a plaintext payment_received sent to Temporal is dropped by the worker (run still awaits payment, GET answers)",
            view.get("status") == "awaiting_payment"
            and signaled
            and not failed
            and after.status_code == 200
            and body.get("status") == "awaiting_payment"
            and not body.get("payments")
            and answered_in < 5,
            f"signal handled {signaled}; task failure {failed or 'none'}; GET {after.status_code} "
            f"{body.get('status')} in {answered_in:.1f} s",
        )

    async def rate_limit_checks(self, code: str) -> None:
        r = self.report
        path = f"/receipts/{code}"
        async with proxy_client(self.public_url, tls_context(self.pki), source=FLOOD_ADDRESS) as flood:
            statuses = [(await flood.get(path)).status_code for _ in range(LOOKUPS_PER_MINUTE + 5)]
        async with proxy_client(
            self.public_url, tls_context(self.pki), source=NEIGHBOUR_ADDRESS
        ) as neighbour:
            other = [(await neighbour.get(path)).status_code for _ in range(3)]
        async with proxy_client(self.public_url, tls_context(self.pki), source=BORROWER_ADDRESS) as borrower:
            borrowed = (await borrower.get(path, headers={"X-Forwarded-For": NEIGHBOUR_ADDRESS})).status_code
            pretending = [
                (await borrower.get(path, headers={"X-Forwarded-For": FLOOD_ADDRESS})).status_code
                for _ in range(2)
            ]
        limited = statuses.count(429)
        r.check(
            f"a flood from {FLOOD_ADDRESS} is limited ({LOOKUPS_PER_MINUTE}/min)",
            statuses[:LOOKUPS_PER_MINUTE] == [200] * LOOKUPS_PER_MINUTE and limited == 5,
            f"{statuses.count(200)} × 200, {limited} × 429",
        )
        r.check(f"meanwhile {NEIGHBOUR_ADDRESS}'s lookups work", other == [200, 200, 200], str(other))
        r.check(
            "a client's own X-Forwarded-For is not believed (nginx sets it)",
            borrowed == 200 and pretending == [200, 200],
            f"{[borrowed, *pretending]}",
        )

    async def load_renewals(self) -> list[str]:
        r, n, in_flight = self.report, self.args.renewals, self.args.in_flight
        traffic = Traffic()
        outcomes: Counter[str] = Counter()
        seconds: list[float] = []
        done_ids: list[str] = []
        gate = asyncio.Semaphore(in_flight)
        async with self.portal() as portal, self.bank() as bank:

            async def one(household: int) -> None:
                async with gate:
                    t0 = time.perf_counter()
                    application_id, status = await self.renew(portal, bank, traffic, household)
                    seconds.append(time.perf_counter() - t0)
                    outcomes[status] += 1
                    if status == "completed" and application_id:
                        done_ids.append(application_id)

            t0 = time.perf_counter()
            await asyncio.gather(*(one(h) for h in range(1, n + 1)))
            wall = time.perf_counter() - t0
            codes = []
            for application_id in done_ids[:20]:
                answer = await portal.get(f"/api/v1/renewals/{application_id}/receipt")
                if answer.status_code == 200:
                    codes.append(answer.json()["public_code"])
        fivexx = sum(c for st, c in traffic.statuses.items() if st >= 500)
        figure = traffic.figures(f"renewals ({n} at {in_flight} in flight)", wall, n, "renewals")
        figure += f"; renewal declare→completed p50 {percentile(seconds, 50):.2f} s, p99 {percentile(seconds, 99):.2f} s"
        self.report.figures.append(figure)
        print("  " + figure, flush=True)
        r.check(
            f"load: {n} renewals through the proxy completed, no error, no 5xx",
            outcomes == Counter({"completed": n}) and not traffic.errors and fivexx == 0,
            f"{dict(outcomes)}; {n / wall:.2f} renewals/s; errors {traffic.errors[:3]}",
        )
        return codes

    async def load_lookups(self, codes: list[str]) -> None:
        r, total = self.report, self.args.lookups
        per_address = math.ceil(total / len(LOAD_ADDRESSES))
        traffic = Traffic()

        async def client(index: int, source: str) -> None:
            async with proxy_client(self.public_url, tls_context(self.pki), source=source) as anyone:
                for i in range(per_address):
                    await traffic.send(anyone, "GET", f"/receipts/{codes[(index + i) % len(codes)]}")

        t0 = time.perf_counter()
        await asyncio.gather(*(client(i, a) for i, a in enumerate(LOAD_ADDRESSES)))
        wall = time.perf_counter() - t0
        figure = traffic.figures(
            f"public lookups ({per_address * len(LOAD_ADDRESSES)} from {len(LOAD_ADDRESSES)} addresses)", wall
        )
        self.report.figures.append(figure)
        print("  " + figure, flush=True)
        r.check(
            "load: public lookups from 20 addresses all 200, no error",
            set(traffic.statuses) == {200} and not traffic.errors,
            f"{dict(traffic.statuses)}; errors {traffic.errors[:3]}",
        )

    def log_checks(self, receipt: dict | None) -> None:
        r = self.report
        access = (
            (self.nginx_dir / "access.log").read_text(errors="replace")
            if (self.nginx_dir / "access.log").exists()
            else ""
        )
        fivexx = [line for line in access.splitlines() if re.search(r'" 5\d\d ', line)]
        r.check(
            "nginx answered no 5xx during the whole rehearsal",
            not fivexx and bool(access),
            f"{len(access.splitlines())} lines, {len(fivexx)} × 5xx",
        )
        logs = {p.name: p.read_text(errors="replace") for p in self.s.log_dir.glob("*.log")}
        logs["nginx access.log"] = access
        secrets_ = self.secrets.values()
        leaks = sorted({name for name, text in logs.items() for value in secrets_ if value in text})
        r.check("no secret or token in any log (API, worker, codec, nginx…)", not leaks, ", ".join(leaks))
        if receipt is not None:
            code = receipt["public_code"]
            found = sorted(name for name, text in logs.items() if code in text or code.lower() in text)
            r.check(
                "no receipt code in any log (access lines say /receipts/{code})", not found, ", ".join(found)
            )
            head = self.declarations[0]["head"]
            personal = [head["personal_id"], head["full_name"]]
            found = sorted(name for name, text in logs.items() if any(v in text for v in personal))
            r.check("no personal data of the declarant in any log", not found, ", ".join(found))
        ours = {
            name: text for name, text in logs.items() if name.split()[0].removesuffix(".log") in OUR_PROCESSES
        }
        queries = sorted(name for name, text in ours.items() if "vnp_SecureHash" in text)
        r.check(
            "no query string in our access lines (the IPN's parameters)",
            not queries and len(ours) == len(OUR_PROCESSES),
            ", ".join(queries) or ", ".join(sorted(ours)),
        )


async def validate_pdf(content: bytes, pki: Pki) -> tuple[bool, str]:
    """pyHanko's validation of the receipt's signature with the rehearsal CA as the only trust root."""
    import io

    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(content))
        [signature] = reader.embedded_signatures
        context = ValidationContext(trust_roots=[load_cert_from_pemder(str(pki.ca_cert))])
        status = await async_validate_pdf_signature(signature, context)
    except Exception as exc:  # noqa: BLE001 - the table says what went wrong
        return False, f"{type(exc).__name__}: {exc}"[:200]
    return bool(status.bottom_line), f"intact {status.intact}, valid {status.valid}, trusted {status.trusted}"


async def main_async(args: argparse.Namespace) -> int:
    rehearsal = Rehearsal(args)
    try:
        await rehearsal.start()
        await rehearsal.run()
    except (StackError, NginxMissing, OSError) as exc:
        rehearsal.report.check("the production configuration started", False, str(exc)[:2000])
    finally:
        await rehearsal.stop()
    print()
    print(rehearsal.report.table())
    if rehearsal.report.figures:
        print()
        print("\n".join(rehearsal.report.figures))
    verdict = "all checks passed" if rehearsal.report.passed else "MISSES: see the table"
    print(
        f"\nrehearsal: {verdict} ({sum(c.ok for c in rehearsal.report.checks)}/{len(rehearsal.report.checks)}); work dir {rehearsal.work}"
    )
    return 0 if rehearsal.report.passed else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--renewals", type=int, default=200, help="renewals in the load phase (default 200)")
    parser.add_argument("--in-flight", type=int, default=20, help="renewals at once (default 20)")
    parser.add_argument(
        "--lookups", type=int, default=2000, help="public lookups from 20 addresses (default 2000)"
    )
    parser.add_argument("--admin-url", default=os.environ.get("REHEARSAL_ADMIN_URL", ADMIN_URL),
                        help="PostgreSQL server where the rehearsal creates (and drops) its database")  # fmt: skip
    parser.add_argument("--work-dir", help="where configuration, keys and logs go (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the database after the run")
    parser.add_argument("--no-install", action="store_true", help="fail instead of installing nginx")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
