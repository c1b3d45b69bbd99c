"""Deployed versions of a process as process owners see them: upload, list with their tickets, download."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from service.augmented import Augmented
from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.errors import NotFound
from service.jobs.topics import TOPICS
from service.processes.definitions import Deployed, deploy_definition, list_definitions
from service.processes.models import ProcessDefinition, ProcessInstance
from service.rulesets.models import RulesetVersion


def upload_definition(session: Session, *, user: Caller, xml: bytes, filename: str) -> Deployed:
    """Check an uploaded diagram and deploy it as a new version (or find the version with the same content)."""
    authorize(user, Permission.DEPLOY_PROCESSES)
    active = set(session.scalars(select(RulesetVersion.name).where(RulesetVersion.active.is_(True))))
    return deploy_definition(
        session, xml=xml, filename=filename, actor=user.username, known_topics=set(TOPICS), known_rulesets=active
    )


def list_deployed(session: Session, *, user: Caller) -> list[ProcessDefinition]:
    """Every deployed version of every process, newest first per key."""
    authorize(user, Permission.READ_PROCESSES)
    return list_definitions(session)


def list_versions(session: Session, *, user: Caller, key: str) -> list[Augmented]:
    """Every version of a process, newest first, with how many tickets run it (open and in all)."""
    authorize(user, Permission.READ_PROCESSES)
    counts = (
        select(
            ProcessInstance.definition_id,
            func.count().label("total"),
            func.sum(case((ProcessInstance.completed.is_(False), 1), else_=0)).label("open"),
        )
        .group_by(ProcessInstance.definition_id)
        .subquery()
    )
    rows = session.execute(
        select(ProcessDefinition, counts.c.total, counts.c.open)
        .outerjoin(counts, counts.c.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc())
    ).all()
    if not rows:
        raise NotFound(f"no version of process {key!r} is deployed")
    newest = rows[0][0].version
    return [
        Augmented(row, latest=row.version == newest, tickets_open=int(open_ or 0), tickets_total=int(total or 0))
        for row, total, open_ in rows
    ]


def get_version(session: Session, *, user: Caller, key: str, version: int) -> ProcessDefinition:
    """One deployed version of a process (404 when there is none)."""
    authorize(user, Permission.READ_PROCESSES)
    row = session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.key == key, ProcessDefinition.version == version)
    )
    if row is None:
        raise NotFound(f"process {key!r} has no version {version}")
    return row
