"""Log lines: one JSON object each, with the application id, and no exception message in either form."""

from __future__ import annotations

import json
import logging

from logs import ConsoleFormatter, JsonFormatter

PERSONAL_ID = "001080012345"


def record_with_error() -> logging.LogRecord:
    try:
        raise ValueError(f"duplicate key (personal_id)=({PERSONAL_ID})")
    except ValueError:
        import sys

        record = logging.LogRecord("bhyt.test", logging.ERROR, __file__, 1, "step failed", (), sys.exc_info())
    record.workflow_id = "renewal-app-42"
    return record


def test_json_line_carries_ids_and_no_message_of_the_error() -> None:
    line = JsonFormatter("worker").format(record_with_error())
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["application_id"] == "app-42" and entry["workflow_id"] == "renewal-app-42"
    assert entry["component"] == "worker" and entry["level"] == "error" and entry["message"] == "step failed"
    assert entry["error_type"] == "ValueError" and entry["error_at"]
    assert PERSONAL_ID not in line


def test_console_form_is_readable_and_withholds_the_error_message() -> None:
    text = ConsoleFormatter("worker").format(record_with_error())
    assert "step failed" in text and "[app-42]" in text and "ValueError" in text
    assert PERSONAL_ID not in text


async def test_api_lines_about_an_application_carry_its_id() -> None:
    import httpx
    from fastapi import FastAPI

    from api.log_context import LogContextMiddleware

    app = FastAPI()
    app.add_middleware(LogContextMiddleware)
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(JsonFormatter("api").format(record))

    log = logging.getLogger("bhyt.test.api")
    log.addHandler(Keep())
    log.setLevel(logging.INFO)

    @app.get("/api/v1/renewals/{application_id}")
    async def one(application_id: str) -> dict[str, str]:
        log.info("looked up")
        return {}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await client.get("/api/v1/renewals/app-9")
    [entry] = [json.loads(line) for line in lines]
    assert entry["application_id"] == "app-9" and entry["workflow_id"] == "renewal-app-9"


def test_uncaught_errors_go_through_the_formatter(capsys: object) -> None:
    import subprocess
    import sys

    code = (
        "from logs import configure_logging\n"
        "configure_logging('probe', fmt='json')\n"
        f"raise RuntimeError('duplicate key ({PERSONAL_ID})')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    entry = json.loads(line)
    assert entry["error_type"] == "RuntimeError" and entry["level"] == "critical"
    assert PERSONAL_ID not in done.stderr


def test_access_lines_carry_no_receipt_code_token_or_query_string() -> None:
    """Issue 21: uvicorn's access line for `GET /receipts/<code>` wrote the code (the receipt's only
    credential) into the logs, and the dev codec path `/o/<token>/…` its token."""
    import sys

    from logs import AccessRedaction, configure_logging

    code, token = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "operator-token-0123456789"
    root = logging.getLogger()
    saved = root.handlers[:], root.level, sys.excepthook, sys.unraisablehook
    try:
        configure_logging("api", fmt="json")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        sys.excepthook, sys.unraisablehook = saved[2], saved[3]
    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, AccessRedaction) for f in access.filters), "configure_logging installs it"
    lines = []
    for path in (
        f"/receipts/{code}?format=pdf",
        f"/receipts/{code.lower()}",
        f"/o/{token}/decode",
        "/api/v1/payments/ipn?vnp_TxnRef=BHYT1&vnp_SecureHash=ab12",
    ):
        # the record uvicorn's h11/httptools protocols log for each answer
        args = ("203.0.113.7:5000", "GET", path, "1.1", 200)
        record = access.makeRecord(
            access.name, logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
        )
        assert access.filter(record)
        lines.append(json.loads(JsonFormatter("api").format(record))["message"])
    assert lines == [
        '203.0.113.7:5000 - "GET /receipts/{code} HTTP/1.1" 200',
        '203.0.113.7:5000 - "GET /receipts/{code} HTTP/1.1" 200',
        '203.0.113.7:5000 - "GET /o/{token}/decode HTTP/1.1" 200',
        '203.0.113.7:5000 - "GET /api/v1/payments/ipn HTTP/1.1" 200',
    ]
