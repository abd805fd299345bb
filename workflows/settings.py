"""Retry and timeout settings of the renewal's activities, by what each one calls.

Business answers are non-retryable by type (activities.errors.NON_RETRYABLE); outages (database,
registry, bank) are retried with backoff.

Before the quote the steps are local activities (in the worker, inside the workflow task, no
round trip through the server per step). A local attempt must end within the workflow task
timeout (10 s): `start_to_close` is 8 s; a failed attempt is retried in the worker while the wait
is under `local_retry_threshold`, longer waits become timers in the history. Past
`schedule_to_close` the step fails and the declarant is told to try again later. A worker crash
mid-step re-runs the step on another worker: each is idempotent per application or read-only.

Once money may have arrived (and for the final status) nothing has a schedule-to-close cut-off:
capped backoff, the pending activity and its attempt count show in the UI, never a failed run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

from activities.errors import NON_RETRYABLE

OUTAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=NON_RETRYABLE,
)
UNTIL_DONE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=NON_RETRYABLE,
)

LOCAL_DATABASE: dict[str, Any] = dict(
    start_to_close_timeout=timedelta(seconds=8),
    schedule_to_close_timeout=timedelta(hours=1),
    local_retry_threshold=timedelta(seconds=10),
    retry_policy=OUTAGE_RETRY,
)
LOCAL_REGISTRY: dict[str, Any] = dict(
    start_to_close_timeout=timedelta(seconds=8),
    schedule_to_close_timeout=timedelta(minutes=30),
    local_retry_threshold=timedelta(seconds=10),
    retry_policy=OUTAGE_RETRY,
)
LOCAL_BANK: dict[str, Any] = dict(
    # opening the order: before any money, so a long outage rejects with "try again later"
    start_to_close_timeout=timedelta(seconds=8),
    schedule_to_close_timeout=timedelta(minutes=30),
    local_retry_threshold=timedelta(seconds=10),
    retry_policy=OUTAGE_RETRY,
)
UNTIL_DONE: dict[str, Any] = dict(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=UNTIL_DONE_RETRY,
)
NOTICE: dict[str, Any] = dict(
    # one short write to the outbox; delivery to the webhook is the worker's sweeper
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(hours=1),
    retry_policy=OUTAGE_RETRY,
)
