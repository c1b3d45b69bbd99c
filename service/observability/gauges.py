"""Gauges counted in the database when /metrics is scraped: one cheap query each, kept for a few seconds.

Counting open incidents or tasks with counters in each process would drift (a retry through another process, a
restart, a migration); the database knows, and every web process answers the same.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.incidents.models import OPEN as INCIDENT_OPEN
from service.incidents.models import Incident
from service.observability.heartbeat import workers_seen
from service.tasks.models import OPEN, TaskCandidate, UserTask

#: Workers unseen for longer than this drop out of `orchestrator_worker_last_seen_timestamp_seconds`.
WORKER_WINDOW = timedelta(hours=1)


class DatabaseGauges:
    """A Prometheus collector of open incidents, open tasks per queue and worker heartbeats."""

    def __init__(self, sessions: sessionmaker[Session], *, cache_seconds: float) -> None:
        self.sessions = sessions
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> list[Metric]:
        """Nothing up front: describing would query the database when the registry is built."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The gauges, from the cache when it is fresh enough."""
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.cache_seconds:
                self._cached = (now, self._count())
            yield from self._cached[1]

    def _count(self) -> list[Metric]:
        with self.sessions() as session:
            incidents = (
                session.scalar(select(func.count()).select_from(Incident).where(Incident.state == INCIDENT_OPEN)) or 0
            )
            queues = session.execute(
                select(TaskCandidate.group_name, func.count())
                .join(UserTask, UserTask.id == TaskCandidate.task_id)
                .where(UserTask.state == OPEN)
                .group_by(TaskCandidate.group_name)
            ).all()
            workers = workers_seen(session, since=utcnow() - WORKER_WINDOW)
        open_incidents = GaugeMetricFamily(
            "orchestrator_open_incidents", "Open incidents: failed steps and jobs that failed every attempt."
        )
        open_incidents.add_metric([], incidents)
        tasks = GaugeMetricFamily(
            "orchestrator_open_tasks", "Open user tasks per queue (candidate group).", labels=["queue"]
        )
        for queue, count in queues:
            tasks.add_metric([queue], count)
        seen = GaugeMetricFamily(
            "orchestrator_worker_last_seen_timestamp_seconds",
            "When each worker (host:pid) last went round its loop, seen within the last hour (Unix time).",
            labels=["worker"],
        )
        for row in workers:
            seen.add_metric([row.worker], row.seen_at.timestamp())
        return [open_incidents, tasks, seen]
