"""The service's Prometheus metrics, counted where things happen (the services call the functions below).

Under gunicorn every process writes its values into `PROMETHEUS_MULTIPROC_DIR` (set before this module is first
imported; see `service/observability/directory.py`) and /metrics adds them up; without it they live in this process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.multiprocess import MultiProcessCollector

from service.db import utcnow
from service.observability.directory import MULTIPROC_ENV

disable_created_metrics()  # no `_created` series: the multiprocess sums have none, so one process shows the same
#: Seconds: from a fast API call to a job that waited out its backoff.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
AGE_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)

HTTP_REQUESTS = Counter(
    "orchestrator_http_requests",
    "HTTP requests answered, by method, route (the URL rule) and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "orchestrator_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_PROGRESS = Gauge(
    "orchestrator_http_requests_in_progress", "HTTP requests being answered now.", multiprocess_mode="livesum"
)
TICKETS_OPENED = Counter("orchestrator_tickets_opened", "Tickets opened, by channel.", ["channel"])
ENGINE_STEPS = Counter(
    "orchestrator_engine_steps",
    "Runs of a process instance until it waits (a start or a step), by result.",
    ["result"],
)
ENGINE_STEP_SECONDS = Histogram(
    "orchestrator_engine_step_duration_seconds",
    "Time the engine ran an instance until it waited.",
    buckets=LATENCY_BUCKETS,
)
DECISIONS = Counter(
    "orchestrator_decisions", "Rule decisions taken in running tickets, by ruleset and outcome.", ["ruleset", "outcome"]
)
JOBS = Counter(
    "orchestrator_jobs",
    "Job runs by topic and result: done, retry (failed, will run again), incident.",
    ["topic", "result"],
)
JOB_AGE = Histogram(
    "orchestrator_job_age_seconds",
    "Time from a job's creation to its end (done or incident), by topic.",
    ["topic"],
    buckets=AGE_BUCKETS,
)
SLA_EVENTS = Counter(
    "orchestrator_sla_events", "SLA warnings and breaches fired, by kind and clock.", ["kind", "clock"]
)

#: An outcome label longer than this is cut: labels are for grouping, the decision itself is in the ticket's history.
OUTCOME_LABEL_CHARS = 120


def multiprocess_dir() -> str | None:
    """The directory the processes share their values in, or None for a single process."""
    return os.environ.get(MULTIPROC_ENV) or None


def registry_with(*collectors: Any) -> CollectorRegistry:
    """A registry for one /metrics endpoint: every process's values (or this process's) plus `collectors`."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    for collector in collectors:
        registry.register(collector)
    return registry


class _ThisProcess:
    """The default registry's metrics (these and the process's own), for a registry of one endpoint."""

    def collect(self) -> Any:
        return REGISTRY.collect()


def request_answered(*, method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered HTTP request."""
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


def ticket_opened(*, channel: str) -> None:
    """Count one opened ticket."""
    TICKETS_OPENED.labels(channel).inc()


def engine_ran(*, seconds: float, ok: bool) -> None:
    """Count one run of the engine until the instance waited (or failed)."""
    ENGINE_STEPS.labels("ok" if ok else "failed").inc()
    ENGINE_STEP_SECONDS.observe(seconds)


def decision_taken(*, ruleset: str, outcome: Mapping[str, Any], copied: frozenset[str] = frozenset()) -> None:
    """Count one decision; the outcome label is its fields as `key=value`, sorted, without those the rule copied
    from facts (a contract's number would make a series per contract)."""
    kept = sorted(key for key in outcome if key not in copied)
    label = ",".join(f"{key}={outcome[key]}" for key in kept)[:OUTCOME_LABEL_CHARS]
    DECISIONS.labels(ruleset, label).inc()


def job_ran(*, topic: str, result: str, created_at: datetime | None = None) -> None:
    """Count one job run; a job that ended (done, incident) also tells its age."""
    JOBS.labels(topic, result).inc()
    if created_at is not None:
        JOB_AGE.labels(topic).observe(max(0.0, (utcnow() - created_at).total_seconds()))


def sla_fired(*, kind: str, clock: str) -> None:
    """Count one fired SLA warning or breach."""
    SLA_EVENTS.labels(kind, clock).inc()
