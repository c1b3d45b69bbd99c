"""The worker heartbeat: one row per worker process, written every few seconds, read by readiness and /metrics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class WorkerHeartbeat(Base):
    """When a worker process (host:pid) last went round its loop: "worker seen recently" across hosts."""

    __tablename__ = "worker_heartbeat"
    worker: Mapped[str] = mapped_column(String(120), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
