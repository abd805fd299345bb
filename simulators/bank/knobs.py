"""The bank simulator's run-time behaviour, for tests: PUT /admin/knobs changes it live."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass
class Knobs:
    """Run-time behaviour of the callbacks, for tests: PUT /admin/knobs changes them live."""

    duplicate_callbacks: int = 0
    """Extra copies of the accepted callback sent after it (or alongside it, see below)."""
    duplicate_concurrent: bool = False
    """Send the copies at the same moment as the first attempt, to exercise races."""
    callback_delay_ms: int = 0
    """Wait before the first attempt: a late callback."""
    retry_base_ms: int = 1000
    """Backoff: attempt n waits retry_base_ms * 2**(n-1), capped at retry_max_ms."""
    retry_max_ms: int = 60_000
    max_attempts: int = 6
    callback_timeout_ms: int = 5000
    refund_settle_ms: int = 0
    """How long a refund taken (00) stays in process (05, then 06) before it is final."""
    refund_outcome: Literal["success", "rejected"] = "success"
    """How the refunds requested from now on end: refunded (00) or rejected (09)."""
