"""Database engine, sessions and the declarative base."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    DateTime,
    MetaData,
    Select,
    TypeDecorator,
    create_engine,
    event,
    exc,
    or_,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

Row = TypeVar("Row")

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC time on every database (SQLite keeps no offset, so it is put back on load)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware time")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime()}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


#: A pooled PostgreSQL connection that sat idle longer than this is checked with a round trip before use (the server may
#: have dropped it: a restart, a timeout); one in steady use is not, which spares a round trip per request under load.
PING_AFTER_IDLE_SECONDS = 2.0


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, *, ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> Engine:
    """An engine for the URL; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable across application crashes in WAL mode
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # SQLite's own lower() folds ASCII only; searches must fold Cyrillic names the way PostgreSQL does.
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

        # SQLite's own BEGIN is deferred; take the write lock at the start so that
        # read-then-write transactions of two processes cannot deadlock.
        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10)
    _ping_idle_connections(engine, ping_after_idle_seconds)
    return engine


def _ping_idle_connections(engine: Engine, after_seconds: float) -> None:
    """Check a connection that has been idle a while as it leaves the pool; a dead one is replaced by a new one."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= after_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(str(error)) from error  # the pool connects anew and tries again


def insert_unless_present(
    session: Session, model: type[Base], row: dict[str, Any], *, unique: Sequence[str]
) -> int | None:
    """Insert one row unless a row with the same `unique` columns exists; its id, or None when one was there.

    One statement (`INSERT ... ON CONFLICT DO NOTHING`), so two transactions inserting the same row never fail on the
    unique constraint: on PostgreSQL the second waits for the first to end, then inserts nothing if it committed.
    """
    table = model.__table__
    dialect = postgresql if is_postgres(session) else sqlite
    statement = (
        dialect.insert(table)  # type: ignore[attr-defined]
        .values(**row)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(table.c.id)  # type: ignore[attr-defined]
    )
    return session.execute(statement).scalar()


def lock_name(session: Session, name: str) -> None:
    """Hold a lock on `name` until the transaction ends, so that transactions that change the same thing (the
    versions of one ruleset or of one process) take turns. PostgreSQL: a transaction-level advisory lock; SQLite:
    every transaction already holds the database's write lock from its start (`BEGIN IMMEDIATE`)."""
    if is_postgres(session):
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def is_postgres(session: Session) -> bool:
    """True when the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def first_free(session: Session, query: Select[tuple[Row]], *order: Any) -> Row | None:
    """The first row of `query` in `order` that no other transaction holds, held by this one until it ends.

    The worker's queues (jobs, SLA events, timers) claim their next due row with it: PostgreSQL skips the rows other
    workers are claiming (`FOR UPDATE SKIP LOCKED` on the queried table only); SQLite lets one writer in at a time
    (`BEGIN IMMEDIATE`), so the first row is free.
    """
    return session.scalar(first_free_query(session, query, *order))


def first_free_query(session: Session, query: Select[tuple[Row]], *order: Any) -> Select[tuple[Row]]:
    """`query` as `first_free` asks it, to run on its own or inside a statement that writes the row it finds."""
    query = query.order_by(*order).limit(1)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=query.column_descriptions[0]["entity"])
    return query


def lease_over(locked_until: Any, now: datetime) -> ColumnElement[bool]:
    """The row has no lease, or its lease ended before `now` (its worker finished, died or hung)."""
    return or_(locked_until.is_(None), locked_until < now)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory; objects stay usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
