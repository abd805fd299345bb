"""`make rehearse` in the test run: the production configuration behind nginx over TLS, all green.

A smaller load than `make rehearse` (30 renewals at 10 in flight, 400 public lookups from 20
addresses: about a minute here) — every check of the table runs the same; only the load's size
differs. nginx comes from Debian (`.ci/run` installs it, the rehearsal itself too when it runs
as root); PostgreSQL as for the database tests: skipped locally without a server, failed in CI.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pytest

from tests.adapters.db.conftest import PG_CANDIDATES
from tests.support import ROOT

pytestmark = pytest.mark.e2e


async def _admin_url() -> str | None:
    for url in filter(None, PG_CANDIDATES):
        try:
            conn = await asyncpg.connect(url, timeout=5)
        except (OSError, asyncpg.PostgresError):
            continue
        await conn.close()
        return url
    return None


def test_the_rehearsal_prints_an_all_green_table(tmp_path) -> None:
    admin = asyncio.run(_admin_url())
    if admin is None:
        reason = "PostgreSQL unreachable at 127.0.0.1:5432; set TEST_POSTGRES_URL"
        if os.environ.get("CI"):
            pytest.fail(reason + " — CI requires PostgreSQL", pytrace=False)
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, "-m", "scripts.rehearse", "--renewals", "30", "--in-flight", "10", "--lookups", "400",
         "--admin-url", admin, "--work-dir", str(tmp_path / "rehearsal")],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    assert "rehearsal: all checks passed" in out
    for line in (
        "receipt PDF: signature intact and trusted up to the rehearsal CA",
        "the bank's IPN reached the API through the proxy (RspCode 00)",
        "GET /metrics not reachable through the proxy",
        "meanwhile 127.0.0.3's lookups work",
        "load: 30 renewals through the proxy completed, no error, no 5xx",
    ):
        assert line in out, line
