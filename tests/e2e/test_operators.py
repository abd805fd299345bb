"""What operators see, with the stack as `make run` starts it (real processes on free ports).

- the codec server decodes a payload taken from a real run's history, for an operator only,
  for the UI's origin only, and logs who decoded what without the content;
- a database error carrying a household's data leaves no personal data in the raw history,
  the worker's log or the API's log;
- /metrics of the API and of the worker answer with the figures the dashboard names;
- every process logs one JSON object a line, with the application id;
- the Temporal UI, in headless Chromium, shows the run's input decoded (screenshot under the
  test's output directory).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from scripts.stack import Stack
from tests.support.browser import Browser, find_chromium
from tests.support.history import payloads, raw_history
from tests.support.stack_clients import api_client
from tests.support.temporal import CONVERTER
from workflows.contract import workflow_id

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / "data" / "demo.json").read_text(encoding="utf-8"))
DEMO_DECLARATION = json.loads((ROOT / "data" / "demo_declaration.json").read_text(encoding="utf-8"))
PARTICIPANTS = {p["card_number"]: p for p in DEMO["participants"]}
CITIZENS = {c["personal_id"]: c for c in DEMO["citizens"]}
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "bhyt.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"


def household(head_id: str, cards: list[str], relationships: list[str]) -> dict[str, Any]:
    c = CITIZENS[head_id]
    members = []
    for card, relationship in zip(cards, relationships, strict=True):
        p = PARTICIPANTS[card]
        members.append(
            {k: p[k] for k in ("card_number", "full_name", "date_of_birth", "gender")}
            | {"relationship": relationship, "months": 12}
        )
    return {
        "head": {k: c[k] for k in ("full_name", "date_of_birth", "gender", "personal_id")},
        "members": members,
    }


SIX = household(
    "001078001113",
    [f"GD40101045678{n:02d}" for n in range(1, 7)],
    ["chủ hộ", "vợ", "cha", "mẹ", "con", "con"],
)


def personal_values(declaration: dict[str, Any]) -> list[str]:
    people = [declaration["head"], *declaration["members"]]
    return sorted({p["full_name"] for p in people} | {declaration["head"]["personal_id"]})


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack.on_free_ports(tmp_path_factory.mktemp("ops") / "var", seed=True) as running:
        yield running


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(stack, http_timeout=90) as client:
        yield client


@pytest.fixture
async def temporal(stack: Stack) -> Client:
    return await Client.connect(stack.urls.temporal, data_converter=CONVERTER)


@pytest.fixture(scope="module")
def demo_run(stack: Stack) -> dict[str, Any]:
    """The demo household declared once for the module: the run the UI and the codec are shown."""
    headers = {"Authorization": f"Bearer {stack.settings.bhyt_api_token}"}
    response = httpx.post(
        f"{stack.urls.api}/api/v1/renewals", json=DEMO_DECLARATION, headers=headers, timeout=90
    )
    assert response.status_code == 201, response.text
    return response.json()


def operator_token(stack: Stack) -> str:
    return next(iter(stack.settings.bhyt_operator_tokens.values())).get_secret_value()


def as_json_payloads(found: list[Any]) -> dict[str, Any]:
    """The body the Temporal UI posts to a codec endpoint (protobuf JSON of Payloads)."""
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in found
        ]
    }


async def test_codec_decodes_the_input_of_a_real_run(
    stack: Stack, temporal: Client, demo_run: dict[str, Any]
) -> None:
    history = await raw_history(temporal, workflow_id(demo_run["application_id"]))
    started = history.events[0].workflow_execution_started_event_attributes
    [sealed] = list(started.input.payloads)
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    body = as_json_payloads([sealed])
    ui = stack.urls.temporal_ui
    async with httpx.AsyncClient(base_url=stack.urls.codec, timeout=30) as codec:
        refused = await codec.post("/decode", json=body)
        assert refused.status_code == 401
        wrong = await codec.post("/decode", json=body, headers={"Authorization": "Bearer not-a-token"})
        assert wrong.status_code == 401

        answer = await codec.post(
            "/decode",
            json=body,
            headers={
                "Authorization": f"Bearer {operator_token(stack)}",
                "Origin": ui,
                "X-Namespace": "default",
            },
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["access-control-allow-origin"] == ui
        [opened] = answer.json()["payloads"]
        decoded = json.loads(base64.b64decode(opened["data"]))
        assert decoded["application_id"] == demo_run["application_id"]
        assert decoded["declaration"]["head"]["personal_id"] == DEMO_DECLARATION["head"]["personal_id"]

        # CORS: the UI's origin is allowed, another is not
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        ok = await codec.options("/decode", headers={"Origin": ui, **preflight})
        assert ok.headers.get("access-control-allow-origin") == ui
        evil = await codec.options("/decode", headers={"Origin": "http://evil.example", **preflight})
        assert "access-control-allow-origin" not in evil.headers

        # the dev UI's endpoint (token in the path) works the same way
        dev = await codec.post(stack.ui_codec_endpoint.removeprefix(stack.urls.codec) + "/decode", json=body)
        assert dev.status_code == 200

    log = stack.log_path("codec").read_text(encoding="utf-8")
    audit = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    decoded_lines = [e for e in audit if "decoded 1 payloads" in e["message"]]
    assert decoded_lines and "operator dev-operator" in decoded_lines[0]["message"]
    assert "dev-1" in decoded_lines[0]["message"]  # the key id, and a fingerprint of the ciphertext
    assert any(e["message"].startswith("codec call refused") for e in audit)
    for value in personal_values(DEMO_DECLARATION):
        assert value not in log


async def test_database_error_leaves_no_personal_data(
    stack: Stack, api: httpx.AsyncClient, temporal: Client
) -> None:
    """The BHXH database refuses the application row; SQLAlchemy's error would carry the whole
    declaration as SQL parameters. Then the database takes it, and the run goes on."""
    db_file = stack.var_dir / "bhyt.db"
    with sqlite3.connect(db_file) as conn:
        conn.execute(
            "CREATE TRIGGER refuse_applications BEFORE INSERT ON applications"
            " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    application_key = str(uuid.uuid4())
    try:
        started = asyncio.create_task(
            api.post("/api/v1/renewals", json=SIX, headers={"Idempotency-Key": application_key})
        )
        await asyncio.sleep(6)  # a few attempts of record_declaration fail
    finally:
        with sqlite3.connect(db_file) as conn:
            conn.execute("DROP TRIGGER refuse_applications")
    response = await started
    assert response.status_code in (201, 202), response.text
    application_id = response.json()["application_id"]
    deadline = time.monotonic() + 60
    while (await api.get(f"/api/v1/renewals/{application_id}")).json()["status"] == "verifying":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.5)

    history = await raw_history(temporal, workflow_id(application_id))
    retried = [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
        and e.activity_task_started_event_attributes.HasField("last_failure")
    ]
    # since issue 12 step 1 is a local activity: its retries run in the worker (logged below) and
    # the history keeps its result with the attempt that succeeded (the SDK's marker)
    local = [
        json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    recorded = [m for m in local if m["activity_type"] == "record_declaration"]
    assert retried or (recorded and recorded[0]["attempt"] > 1), "record_declaration was retried"
    if retried:
        failure = retried[0].last_failure
        assert failure.application_failure_info.type == "IntegrityError"
    stored = history.SerializeToString()
    assert all(p.metadata.get("encoding") == b"binary/encrypted" for p in payloads(history))

    worker_log = stack.log_path("worker").read_text(encoding="utf-8")
    api_log = stack.log_path("api").read_text(encoding="utf-8")
    assert "IntegrityError" in worker_log, "the failure was logged"
    for value in personal_values(SIX):
        assert value.encode() not in stored, f"{value!r} in the raw history"
        assert value not in worker_log, f"{value!r} in the worker's log"
        assert value not in api_log, f"{value!r} in the API's log"
    lines = [json.loads(line) for line in worker_log.splitlines() if line.startswith("{")]
    assert any(e.get("application_id") == application_id and "IntegrityError" in e["message"] for e in lines)


def metric_names(exposition: str) -> set[str]:
    names = set()
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def names_in_expr(expr: str) -> set[str]:
    """Metric names a PromQL expression reads (identifiers followed by `{` or a bracket/space)."""
    words = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?=\s*[{\[)\s]|$)", expr))
    functions = {"sum", "rate", "increase", "max", "min", "by", "count", "avg", "and", "or", "on", "offset",
                 "time", "histogram_quantile", "le", "without", "irate", "delta", "clamp_min", "topk"}  # fmt: skip
    return {w for w in words if w not in functions and (w.startswith("bhyt_") or w.startswith("temporal_"))}


def test_temporal_ui_shows_the_decoded_input(stack: Stack, demo_run: dict[str, Any], tmp_path: Path) -> None:
    browser = find_chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("no headless Chromium in CI (.ci/run installs it)")
        pytest.skip("no headless Chromium on PATH (apt-get install chromium); the codec test covers decoding")
    url = f"{stack.urls.temporal_ui}/namespaces/default/workflows/{workflow_id(demo_run['application_id'])}"
    card = DEMO_DECLARATION["members"][0]["card_number"]  # only inside the encrypted input
    with Browser(browser) as page:
        page.open(url)
        page.wait_for_text("HouseholdRenewal")
        try:
            text = page.wait_for_text(card, timeout=20)
        except TimeoutError:
            page.click_text("Input and Results")  # collapsed in some UI versions
            text = page.wait_for_text(card, timeout=40)
        shot = page.screenshot(tmp_path / "temporal-ui-decoded-input.png")
    print(f"screenshot of the decoded input: {shot}")
    assert shot.stat().st_size > 20_000
    assert DEMO_DECLARATION["head"]["personal_id"] in text  # the decoded declaration, for the operator
    assert "binary/encrypted" not in text


def starter(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "starter.py", *args],
        cwd=ROOT,
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_operator_commands_stats_and_review(
    stack: Stack, api: httpx.AsyncClient, demo_run: dict[str, Any]
) -> None:
    """Last in the module: the demo run is paid the wrong amount and waits for an operator."""
    application_id = demo_run["application_id"]
    wrong = demo_run["payment"]["amount"] - 1000
    paid = starter(stack, "pay", application_id, "--amount", str(wrong))
    assert paid.returncode == 0, paid.stderr
    deadline = time.monotonic() + 60
    while (await api.get(f"/api/v1/renewals/{application_id}")).json()["status"] != "payment_review":
        assert time.monotonic() < deadline, "the wrong amount did not reach payment_review"
        await asyncio.sleep(0.5)

    review = starter(stack, "review")
    assert review.returncode == 0, review.stderr
    [row] = [line for line in review.stdout.splitlines() if line.startswith(application_id)]
    assert f"{demo_run['payment']['amount']:,}" in row and "amount_mismatch" in row and "min" in row
    assert "1 waiting" in review.stdout

    stats = starter(stack, "stats")
    assert stats.returncode == 0, stats.stderr
    rows = {line.split()[0]: line.split()[1:] for line in stats.stdout.splitlines()[2:]}
    assert int(rows["payment_review"][-1]) >= 1
    assert int(rows["total"][-1].replace(",", "")) >= 2  # the demo run and the one of the database test
    assert "runs" in stats.stderr  # progress of the pass over the visibility store

    for output in (review.stdout + review.stderr, stats.stdout + stats.stderr):
        for value in personal_values(DEMO_DECLARATION):
            assert value not in output


async def test_metrics_and_the_dashboard_name_only_metrics_that_exist(
    stack: Stack, api: httpx.AsyncClient, demo_run: dict[str, Any]
) -> None:
    """After the review test: by then a regular activity ran (before the payment every step is a
    local activity since issue 12, and the SDK exports an activity metric once one ran)."""
    await api.get("/api/v1/payments/ipn", params={"vnp_TxnRef": "x", "vnp_SecureHash": "00"})  # a 97
    operator_token = next(iter(stack.settings.bhyt_operator_tokens.values())).get_secret_value()
    assert (await api.get("/metrics")).status_code == 403  # the portal's token is not an operator's
    api_metrics = (await api.get("/metrics", headers={"Authorization": f"Bearer {operator_token}"})).text
    async with httpx.AsyncClient(timeout=10) as client:
        worker_metrics = (await client.get(stack.urls.worker_metrics)).text

    assert re.search(
        r'bhyt_api_requests_total\{method="POST",route="/api/v1/renewals",status="201"\} [1-9]', api_metrics
    )
    assert re.search(r'bhyt_ipn_answers_total\{rsp_code="97"\} [1-9]', api_metrics)
    assert re.search(r"bhyt_applications_started_total [1-9]", api_metrics)
    assert re.search(r'bhyt_applications\{status="awaiting_payment"\} [1-9]', api_metrics)
    for gauge in ("bhyt_payment_review_waiting", "bhyt_notices_pending", "bhyt_refunds_due"):
        assert re.search(rf"^{gauge} \d", api_metrics, re.M), gauge
    # the SDK's own metrics: before the payment every step is a local activity (issue 12)
    assert any(
        name in worker_metrics
        for name in (
            "temporal_workflow_completed",
            "temporal_activity_execution_latency",
            "temporal_local_activity_execution_latency",
        )
    )

    exported = metric_names(api_metrics) | metric_names(worker_metrics)
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    import yaml

    rules = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    exprs += [r["expr"] for group in rules["groups"] for r in group["rules"]]
    assert exprs
    named = set().union(*(names_in_expr(e) for e in exprs))
    assert named, "the dashboard names metrics"
    missing = {
        n
        for n in named
        if n not in exported and f"{n}_total" not in exported and f"{n}_bucket" not in exported
    }
    assert not missing, f"dashboard/alerts name metrics nobody exports: {sorted(missing)}"
