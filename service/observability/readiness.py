"""Readiness: the database answers, its schema is the newest migration, and a worker was seen recently."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from service.db import utcnow
from service.migrations import alembic_config
from service.observability.heartbeat import last_seen


@dataclass(frozen=True)
class Check:
    """One check: its name, whether it passed, and what was found."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    """Every check; ready when all passed."""

    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        """True when every check passed."""
        return all(check.ok for check in self.checks)


@lru_cache(maxsize=1)
def newest_revisions() -> frozenset[str]:
    """The head revisions of the migrations this code ships (read once per process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def check_readiness(engine: Engine, *, worker_within_seconds: float, now: datetime | None = None) -> Readiness:
    """Run the three checks; a database that does not answer fails the other two as well."""
    now = now or utcnow()
    with Session(engine) as session:
        try:
            session.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - any failure to reach the database is the answer here
            return Readiness(
                (
                    Check("database", False, _reason(error)),
                    Check("schema", False, "not checked: the database is unreachable"),
                    Check("worker", False, "not checked: the database is unreachable"),
                )
            )
        return Readiness(
            (
                Check("database", True, "reachable"),
                _guarded(session, "schema", lambda: _schema(session)),
                _guarded(session, "worker", lambda: _worker(session, now, worker_within_seconds)),
            )
        )


def _reason(error: Exception) -> str:
    first = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _guarded(session: Session, name: str, check: Callable[[], Check]) -> Check:
    """A check whose query fails (a table missing) fails alone; the session is usable again for the next."""
    try:
        return check()
    except Exception as error:  # noqa: BLE001 - a failing query is a failed check, not a failed probe
        session.rollback()
        return Check(name, False, _reason(error))


def _schema(session: Session) -> Check:
    found = frozenset(session.scalars(text("SELECT version_num FROM alembic_version")))
    expected = newest_revisions()
    if found == expected:
        return Check("schema", True, f"at {', '.join(sorted(found))}")
    have = ", ".join(sorted(found)) or "none"
    return Check("schema", False, f"at {have}, the newest is {', '.join(sorted(expected))}: run `orchestrator migrate`")


def _worker(session: Session, now: datetime, within_seconds: float) -> Check:
    seen = last_seen(session)
    if seen is None:
        return Check("worker", False, "no worker has ever reported")
    age = (now - seen).total_seconds()
    if age > within_seconds:
        return Check("worker", False, f"last seen {age:.0f} s ago, more than {within_seconds:g} s")
    return Check("worker", True, f"last seen {max(age, 0):.0f} s ago")
