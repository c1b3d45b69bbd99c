"""Deployed versions of a process as process owners see them: upload, list with their tickets, download."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.errors import NotFound
from service.paging import Page, keyset_rows
from service.processes.definitions import Deployed, deploy_definition, list_definitions
from service.processes.models import ProcessDefinition, ProcessInstance
from service.rulesets.models import RulesetVersion


def upload_definition(
    session: Session,
    *,
    user: Caller,
    xml: bytes,
    filename: str,
    topics: Container[str],
    ticket_process: str | None = None,
) -> Deployed:
    """Check an uploaded diagram and deploy it as a new version (or find the version with the same content); it
    may call the `topics` served (`service.jobs.topics.ServedTopics`); a process other than `ticket_process` has its
    timer start events scheduled."""
    authorize(user, Permission.DEPLOY_PROCESSES)
    active = set(session.scalars(select(RulesetVersion.name).where(RulesetVersion.active.is_(True))))
    return deploy_definition(
        session,
        xml=xml,
        filename=filename,
        actor=user.username,
        known_topics=topics,
        known_rulesets=active,
        ticket_process=ticket_process,
    )


def list_deployed(session: Session, *, user: Caller) -> list[ProcessDefinition]:
    """Every deployed version of every process, newest first per key."""
    authorize(user, Permission.READ_PROCESSES)
    return list_definitions(session)


def list_versions(
    session: Session, *, user: Caller, key: str, cursor: str | None = None, page_size: int = 50
) -> Page[Any]:
    """A page of the versions of a process, newest first, with how many tickets run it (open and in all), by one
    query: the counts are read for the page's versions only. A version is never renumbered, so one deployed between
    two pages comes before the first and shifts nothing."""
    authorize(user, Permission.READ_PROCESSES)
    runs = ProcessInstance.definition_id == ProcessDefinition.id
    newest = select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key).scalar_subquery()
    query = select(
        ProcessDefinition.id,
        ProcessDefinition.key,
        ProcessDefinition.version,
        ProcessDefinition.content_hash,
        ProcessDefinition.name,
        ProcessDefinition.filename,
        ProcessDefinition.deployed_at,
        ProcessDefinition.deployed_by,
        (ProcessDefinition.version == newest).label("latest"),
        select(func.count()).where(runs, ProcessInstance.completed.is_(False)).scalar_subquery().label("tickets_open"),
        select(func.count()).where(runs).scalar_subquery().label("tickets_total"),
    ).where(ProcessDefinition.key == key)
    page = keyset_rows(
        session,
        query,
        list_name=f"process-versions:{key}",
        keys=(ProcessDefinition.version,),
        descending=True,
        cursor=cursor,
        page_size=page_size,
    )
    if not page.items and cursor is None:
        raise NotFound(f"no version of process {key!r} is deployed")
    return page


def get_version(session: Session, *, user: Caller, key: str, version: int) -> ProcessDefinition:
    """One deployed version of a process (404 when there is none)."""
    authorize(user, Permission.READ_PROCESSES)
    row = session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.key == key, ProcessDefinition.version == version)
    )
    if row is None:
        raise NotFound(f"process {key!r} has no version {version}")
    return row
