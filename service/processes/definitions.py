"""Deploying diagrams as immutable versions, and the per-process cache of parsed versions."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import engine
from service.errors import Invalid, NotFound
from service.processes.models import ProcessDefinition


@dataclass(frozen=True)
class Deployed:
    """The outcome of a deployment: the version, and whether it is new."""

    definition: ProcessDefinition
    created: bool


class DefinitionCache:
    """Parsed diagrams by content hash; versions are immutable, so entries never go stale."""

    def __init__(self) -> None:
        self._parsed: dict[str, engine.Definition] = {}
        self._lock = threading.Lock()

    def get(self, row: ProcessDefinition) -> engine.Definition:
        """The parsed definition of a deployed version."""
        parsed = self._parsed.get(row.content_hash)
        if parsed is None:
            parsed = engine.load_definition(row.xml.encode(), filename=row.filename or f"{row.key}.bpmn")
            with self._lock:
                self._parsed[row.content_hash] = parsed
        return parsed


def deploy_definition(
    session: Session,
    *,
    xml: bytes,
    filename: str,
    actor: str,
    known_topics: set[str],
    known_rulesets: set[str],
) -> Deployed:
    """Validate a diagram and store it as a new version, or return the version with the same content."""
    content_hash = hashlib.sha256(xml).hexdigest()
    existing = session.scalar(select(ProcessDefinition).where(ProcessDefinition.content_hash == content_hash))
    if existing is not None:
        return Deployed(existing, created=False)
    try:
        parsed = engine.load_definition(xml, filename=filename)
    except engine.DiagramError as error:
        raise Invalid(
            f"{filename}: {error.detail}", file=filename, element=error.element_id, line=error.line
        ) from error
    unknown_topics = sorted(set(parsed.topics) - known_topics)
    if unknown_topics:
        raise Invalid(f"{filename}: no adapter serves the topics {', '.join(unknown_topics)}", file=filename)
    unknown_rules = sorted(set(parsed.decision_refs) - known_rulesets)
    if unknown_rules:
        raise Invalid(f"{filename}: no ruleset is published for {', '.join(unknown_rules)}", file=filename)
    latest = session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == parsed.key))
    row = ProcessDefinition(
        key=parsed.key,
        version=(latest or 0) + 1,
        content_hash=content_hash,
        name=parsed.name or parsed.key,
        filename=filename,
        xml=xml.decode(),
        deployed_by=actor,
    )
    session.add(row)
    session.flush()
    return Deployed(row, created=True)


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
