"""Retention of finished jobs: the worker deletes done jobs past their retention, a bounded batch at a time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, literal_column, select
from sqlalchemy.orm import Session, sessionmaker

from service.config import Config
from service.db import is_postgres, transaction, utcnow
from service.jobs.models import DONE, Job

#: Longest text of one result value kept in the `job_done` history event.
SUMMARY_CHARS = 200
# Written into the statement (not bound), so that PostgreSQL proves the query within the partial index ix_job_done.
_IS_DONE = Job.status == literal_column(f"'{DONE}'")


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """A job's result as its history keeps it: scalars as they are, texts cut short, anything nested by its size."""
    summary: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, str):
            summary[key] = value if len(value) <= SUMMARY_CHARS else value[: SUMMARY_CHARS - 1] + "…"
        elif value is None or isinstance(value, bool | int | float):
            summary[key] = value
        else:
            summary[key] = f"<{type(value).__name__} of {len(value) if hasattr(value, '__len__') else 1}>"
    return summary


def purge_done_jobs(session: Session, *, config: Config, now: datetime | None = None) -> int:
    """Delete up to `job_purge_batch` jobs done more than `job_retention_days` ago, oldest first; returns how many.

    On PostgreSQL rows another worker is deleting are skipped, so several workers sweep without waiting on each
    other.
    """
    cutoff = (now or utcnow()) - timedelta(days=max(config.job_retention_days, 0.0))
    batch = select(Job.id).where(_IS_DONE, Job.updated_at <= cutoff).order_by(Job.updated_at, Job.id)
    batch = batch.limit(config.job_purge_batch)
    if is_postgres(session):
        batch = batch.with_for_update(skip_locked=True)
    ids = list(session.scalars(batch))
    if ids:
        session.execute(delete(Job).where(Job.id.in_(ids)))
    return len(ids)


class Sweeper:
    """One worker's sweep of done jobs: a batch every `job_purge_seconds`, or at once after a full batch."""

    def __init__(self, sessions: sessionmaker[Session], *, config: Config) -> None:
        self.sessions = sessions
        self.config = config
        self.every = timedelta(seconds=config.job_purge_seconds)
        self.last: datetime | None = None
        self.full = False

    def sweep(self, *, now: datetime | None = None) -> int:
        """Delete one batch if one is due; returns how many jobs were deleted."""
        now = now or utcnow()
        if not self.full and self.last is not None and now - self.last < self.every:
            return 0
        with transaction(self.sessions) as session:
            deleted = purge_done_jobs(session, config=self.config, now=now)
        self.last, self.full = now, deleted >= self.config.job_purge_batch
        return deleted
