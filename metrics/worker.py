"""The worker's runtime: the Temporal SDK's metrics in Prometheus, and its core's logs in ours.

temporalio's Rust core serves its metrics (task latencies, slots, failures, polls; names start
with `temporal_`) on WORKER_METRICS_ADDRESS (host:port) when it is set, and forwards its own log
lines to the Python logger `temporalio.core`, so they come out as the process's JSON lines
(logs.py) instead of the core's coloured console form.
"""

from __future__ import annotations

import logging

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from config import Settings


def metrics_runtime(settings: Settings) -> Runtime:
    metrics = (
        PrometheusConfig(bind_address=settings.worker_metrics_address, durations_as_seconds=True)
        if settings.worker_metrics_address
        else None
    )
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
            metrics=metrics,
        )
    )
