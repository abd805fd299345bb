"""The worker's metrics: the Temporal SDK's own (task latencies, slots, failures, polls) in Prometheus.

temporalio's Rust core serves them on WORKER_METRICS_ADDRESS (host:port) when it is set; names
start with `temporal_` (e.g. temporal_workflow_completed, temporal_activity_execution_failed,
temporal_workflow_task_schedule_to_start_latency).
"""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from config import Settings


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A runtime exporting the SDK metrics, or None (the default runtime, no exporter)."""
    if not settings.worker_metrics_address:
        return None
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=settings.worker_metrics_address, durations_as_seconds=True)
        )
    )
