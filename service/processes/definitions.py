"""Deploying diagrams as immutable versions, and the per-process cache of parsed versions."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from service import engine
from service.db import lock_name, utcnow
from service.errors import Invalid, NotFound
from service.processes.models import ProcessDefinition
from service.processes.projection import TASK_STATUSES
from service.timers.schedule import schedule_starts


@dataclass(frozen=True)
class Deployed:
    """The outcome of a deployment: the version, whether it is new, and what the diagram's check warns about."""

    definition: ProcessDefinition
    created: bool
    warnings: tuple[engine.Problem, ...] = ()


@dataclass(frozen=True)
class Version:
    """Which deployed version new instances of a process start on."""

    id: int
    key: str
    version: int
    content_hash: str
    filename: str


class DefinitionCache:
    """Parsed diagrams by content hash (versions are immutable, so these never go stale), and the newest version of
    each process, which a process trusts for `latest_seconds` (a deployment elsewhere reaches it within that)."""

    def __init__(self, latest_seconds: float = 0.0) -> None:
        self.latest_seconds = latest_seconds
        self._parsed: dict[str, engine.Definition] = {}
        self._latest: dict[str, tuple[float, Version]] = {}
        self._by_id: dict[int, Version] = {}
        self._lock = threading.Lock()

    def latest(self, session: Session, *, key: str) -> tuple[Version, engine.Definition]:
        """The newest version of a process, parsed."""
        hit = self._latest.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.latest_seconds:
            return hit[1], self._parsed[hit[1].content_hash]
        row = latest_definition(session, key=key)
        version = Version(row.id, row.key, row.version, row.content_hash, row.filename or f"{row.key}.bpmn")
        parsed = self.get(row)
        with self._lock:
            self._latest[key] = (time.monotonic(), version)
        return version, parsed

    def by_id(self, session: Session, *, definition_id: int) -> tuple[Version, engine.Definition]:
        """A deployed version by its id, parsed: read once per process, since a version never changes."""
        version = self._by_id.get(definition_id)
        if version is not None and version.content_hash in self._parsed:
            return version, self._parsed[version.content_hash]
        row = session.get(ProcessDefinition, definition_id)
        if row is None:
            raise NotFound(f"no deployed process version {definition_id}")
        version = Version(row.id, row.key, row.version, row.content_hash, row.filename or f"{row.key}.bpmn")
        parsed = self.get(row)
        with self._lock:
            self._by_id[definition_id] = version
        return version, parsed

    def forget_latest(self) -> None:
        """Look the newest versions up again (after a deployment by this process)."""
        with self._lock:
            self._latest.clear()

    def forget_versions(self) -> None:
        """Forget which version each id names too (the database was emptied under this process, as tests do)."""
        with self._lock:
            self._latest.clear()
            self._by_id.clear()

    def get(self, row: ProcessDefinition) -> engine.Definition:
        """The parsed definition of a deployed version."""
        parsed = self._parsed.get(row.content_hash)
        if parsed is None:
            parsed = parse_version(row, self.get)
            with self._lock:
                self._parsed[row.content_hash] = parsed
        return parsed


def parse_version(
    row: ProcessDefinition, parsed: Callable[[ProcessDefinition], engine.Definition]
) -> engine.Definition:
    """A deployed version parsed, with the versions its call activities were bound to at its deployment (each
    parsed by ``parsed``)."""
    ids: dict[str, int] = json.loads(row.calls) if row.calls else {}
    session = object_session(row)

    def resolve(call: engine.Call) -> engine.Definition | None:
        called = session.get(ProcessDefinition, ids[call.element]) if session and call.element in ids else None
        return parsed(called) if called is not None else None

    return engine.load_definition(row.xml.encode(), filename=row.filename or f"{row.key}.bpmn", resolve=resolve)


def _parsed(row: ProcessDefinition) -> engine.Definition:
    return parse_version(row, _parsed)


class _Binder:
    """Resolves a deploying diagram's call activities to deployed versions, noting which (see `engine.calls`)."""

    def __init__(self, session: Session, batch: Mapping[str, int]) -> None:
        self.session = session
        self.batch = batch
        self.ids: dict[str, int] = {}
        self._parsed: dict[int, engine.Definition] = {}

    def known(self) -> dict[str, int]:
        """The number of versions of each deployed process."""
        query = select(ProcessDefinition.key, func.max(ProcessDefinition.version)).group_by(ProcessDefinition.key)
        return {key: number for key, number in self.session.execute(query)}

    def __call__(self, call: engine.Call) -> engine.Definition | None:
        where = ProcessDefinition.key == call.key
        if call.binding == "deployment":
            row = self.session.get(ProcessDefinition, self.batch[call.key]) if call.key in self.batch else None
        elif call.binding == "version":
            row = self.session.scalar(select(ProcessDefinition).where(where, ProcessDefinition.version == call.version))
        else:
            row = self.session.scalar(select(ProcessDefinition).where(where).order_by(ProcessDefinition.version.desc()))
        if row is None:
            return None
        self.ids[call.element] = row.id
        if row.id not in self._parsed:
            self._parsed[row.id] = _parsed(row)
        return self._parsed[row.id]

    def content_hash(self, xml: bytes) -> str:
        """The version's hash: of the diagram, and of the versions it calls (a new one called makes a new version)."""
        calls = json.dumps(self.ids, sort_keys=True).encode() if self.ids else b""
        return hashlib.sha256(xml + (b"\ncalls:" + calls if calls else b"")).hexdigest()


def deploy_definition(
    session: Session,
    *,
    xml: bytes,
    filename: str,
    actor: str,
    known_topics: Container[str],
    known_rulesets: set[str],
    batch: Mapping[str, int] | None = None,
    ticket_process: str | None = None,
) -> Deployed:
    """Validate a diagram and store it as a new version, or return the version with the same content.

    A refused diagram's answer lists every problem (`problems`: element, line, detail, hint); the first one is also
    its `element` and `line`. Every external topic must have an adapter, every decision a published ruleset, and every
    user task's `status` must be one the service knows (`TASK_STATUSES`). A call activity must name a deployed process
    (and version); ``batch`` holds the versions deployed with this diagram, by key, for the binding `deployment`. A
    process other than `ticket_process` has its timer start events scheduled (`service.timers.schedule`), in place of
    its older versions' schedule.
    """
    content_hash = hashlib.sha256(xml).hexdigest()
    existing = _deployed(session, content_hash)
    if existing is not None:
        return Deployed(existing, created=False)
    binder = _Binder(session, batch or {})
    known = engine.Known(
        topics=known_topics,
        decisions=frozenset(known_rulesets),
        statuses=frozenset(TASK_STATUSES),
        processes=binder.known(),
        batch=frozenset(batch or ()),
    )
    try:
        parsed = engine.load_definition(xml, filename=filename, known=known, resolve=binder)
    except engine.DiagramError as error:
        raise Invalid(
            str(error),
            file=filename,
            element=error.element_id,
            line=error.line,
            problems=[problem.to_dict() for problem in error.problems],
        ) from error
    # Deployments of one process take turns from here: each numbers its version after the last one committed, and
    # of two deploying the same content at once the second finds the first's version.
    lock_name(session, f"process:{parsed.key}")
    content_hash = binder.content_hash(xml)
    existing = _deployed(session, content_hash)
    if existing is not None:
        return Deployed(existing, created=False)
    latest = session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == parsed.key))
    row = ProcessDefinition(
        key=parsed.key,
        version=(latest or 0) + 1,
        content_hash=content_hash,
        name=parsed.name or parsed.key,
        filename=filename,
        xml=xml.decode(),
        deployed_by=actor,
        calls=json.dumps(binder.ids, sort_keys=True) if binder.ids else "",
    )
    session.add(row)
    session.flush()
    if ticket_process is not None and parsed.key != ticket_process:
        schedule_starts(session, row=row, parsed=parsed, now=utcnow())
    return Deployed(row, created=True, warnings=parsed.warnings)


def _deployed(session: Session, content_hash: str) -> ProcessDefinition | None:
    return session.scalar(select(ProcessDefinition).where(ProcessDefinition.content_hash == content_hash))


def latest_definition(session: Session, *, key: str) -> ProcessDefinition:
    """The newest deployed version of a process."""
    row = session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.key == key).order_by(ProcessDefinition.version.desc())
    )
    if row is None:
        raise NotFound(f"no version of process {key!r} is deployed; run `orchestrator deploy`")
    return row


def list_definitions(session: Session) -> list[ProcessDefinition]:
    """Every deployed version, newest first per key."""
    stmt = select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
    return list(session.scalars(stmt))
