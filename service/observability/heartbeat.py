"""Writing and reading worker heartbeats."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.db import transaction, utcnow
from service.observability.models import WorkerHeartbeat

#: Rows of workers not seen for this long are deleted when a worker starts: host:pid names do not come back.
FORGET_AFTER = timedelta(days=7)


class Heartbeat:
    """One worker's heartbeat, written at most every `every_seconds`."""

    def __init__(self, sessions: sessionmaker[Session], *, worker: str, every_seconds: float) -> None:
        self.sessions = sessions
        self.worker = worker
        self.every = timedelta(seconds=every_seconds)
        self.last: datetime | None = None

    def beat(self, *, now: datetime | None = None) -> bool:
        """Record that the worker is alive, unless it did so less than `every_seconds` ago; True when written."""
        now = now or utcnow()
        if self.last is not None and now - self.last < self.every:
            return False
        with transaction(self.sessions) as session:
            if self.last is None:
                session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < now - FORGET_AFTER))
            changed = session.execute(
                update(WorkerHeartbeat).where(WorkerHeartbeat.worker == self.worker).values(seen_at=now)
            ).rowcount  # type: ignore[attr-defined]
            if not changed:
                session.add(WorkerHeartbeat(worker=self.worker, started_at=now, seen_at=now))
        self.last = now
        return True


def last_seen(session: Session) -> datetime | None:
    """When any worker was last seen; None when none ever was."""
    return session.scalar(select(func.max(WorkerHeartbeat.seen_at)))


def workers_seen(session: Session, *, since: datetime) -> list[WorkerHeartbeat]:
    """The workers seen at or after `since`."""
    query = select(WorkerHeartbeat).where(WorkerHeartbeat.seen_at >= since).order_by(WorkerHeartbeat.worker)
    return list(session.scalars(query))
