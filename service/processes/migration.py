"""Moving running tickets onto another version of their process: a dry run, or each ticket in its own transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service import engine
from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.context import Context
from service.db import is_postgres
from service.processes.instances import script_limits
from service.processes.models import ProcessDefinition, ProcessInstance
from service.processes.projection import project
from service.processes.versions import get_version
from service.tickets.history import record
from service.tickets.models import Ticket

MIGRATED, WOULD_MIGRATE, REFUSED = "migrated", "would_migrate", "refused"


@dataclass(frozen=True)
class TicketFilter:
    """Which running tickets to move when no numbers are given; every criterion given must hold."""

    status: str | None = None
    team: str | None = None
    from_version: int | None = None


@dataclass
class TicketMove:
    """What happened, or would happen, to one ticket."""

    ticket: str
    status: str = REFUSED
    reason: str | None = None
    from_version: int | None = None
    to_version: int | None = None
    position: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


@dataclass
class MigrationReport:
    """The target version and every ticket's outcome."""

    key: str
    version: int
    dry_run: bool
    results: list[TicketMove]

    def count(self, status: str) -> int:
        """How many tickets ended with `status`."""
        return sum(1 for move in self.results if move.status == status)


class _Refused(Exception):
    pass


def migrate_tickets(
    session: Session,
    ctx: Context,
    *,
    user: Caller,
    key: str,
    version: int,
    numbers: list[str] | None = None,
    where: TicketFilter | None = None,
    dry_run: bool,
) -> MigrationReport:
    """Move the tickets named (or those the filter selects) onto version `version` of process `key`.

    Each ticket is checked, moved and committed in its own transaction (this commits `session` once per ticket
    moved), so one refusal does not hold back the others. A dry run checks everything and changes nothing.
    """
    authorize(user, Permission.MIGRATE_TICKETS)
    target = get_version(session, user=user, key=key, version=version)
    target_id, target_version = target.id, target.version
    selected = _select(session, target, numbers, where or TicketFilter())
    results = []
    for ticket_id, number in selected:
        if ticket_id is None:
            results.append(TicketMove(number, reason=f"no ticket {number}"))
            continue
        move = TicketMove(number, to_version=target_version)
        try:
            _move(session, ctx, ticket_id, target_id, move, actor=user.username, dry_run=dry_run)
        except _Refused as refusal:
            move.status, move.reason = REFUSED, str(refusal)
        if move.status == MIGRATED:
            session.commit()
        else:
            session.rollback()
        results.append(move)
    return MigrationReport(key, target_version, dry_run, results)


def _select(
    session: Session, target: ProcessDefinition, numbers: list[str] | None, where: TicketFilter
) -> list[tuple[int | None, str]]:
    if numbers is not None:
        found = dict(session.execute(select(Ticket.number, Ticket.id).where(Ticket.number.in_(numbers))).tuples().all())
        return [(found.get(number), number) for number in dict.fromkeys(numbers)]
    query = (
        select(Ticket.id, Ticket.number)
        .join(ProcessInstance, ProcessInstance.ticket_id == Ticket.id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(
            ProcessDefinition.key == target.key,
            ProcessDefinition.id != target.id,
            ProcessInstance.completed.is_(False),
        )
        .order_by(Ticket.id)
    )
    if where.status:
        query = query.where(Ticket.status == where.status)
    if where.team:
        query = query.where(Ticket.team == where.team)
    if where.from_version is not None:
        query = query.where(ProcessDefinition.version == where.from_version)
    return [(ticket_id, number or "") for ticket_id, number in session.execute(query).tuples()]


def _move(
    session: Session, ctx: Context, ticket_id: int, target_id: int, move: TicketMove, *, actor: str, dry_run: bool
) -> None:
    query = select(ProcessInstance).where(ProcessInstance.ticket_id == ticket_id)
    if not dry_run and is_postgres(session):
        query = query.with_for_update()
    instance = session.scalar(query.execution_options(populate_existing=True))
    if instance is None:
        raise _Refused("the ticket has no process instance")
    source = session.get(ProcessDefinition, instance.definition_id)
    target = session.get(ProcessDefinition, target_id)
    assert source is not None and target is not None
    move.from_version = source.version
    if source.key != target.key:
        raise _Refused(f"the ticket runs the process {source.key!r}, not {target.key!r}")
    if instance.completed:
        raise _Refused("the ticket's process has ended")
    if source.id == target.id:
        raise _Refused(f"the ticket already runs version {target.version}")
    old, new = ctx.definitions.get(source), ctx.definitions.get(target)
    decide = ctx.rules.decider(session)
    limits = script_limits(ctx.config)
    run = old.restore(instance.document, decide=decide, limits=limits)
    move.position = [element.element_id for element in run.reached_elements() if element.open]
    changes = new.changes_from(old)
    move.added, move.removed, move.changed = list(changes.added), list(changes.removed), list(changes.changed)
    problems = new.migration_problems(run)
    if problems:
        raise _Refused("; ".join(problems))
    try:
        moved = new.adopt(instance.document, decide=decide, limits=limits)
        events = moved.advance()
    except engine.MigrationRefused as error:
        raise _Refused("; ".join(error.problems)) from error
    except engine.EngineError as error:
        raise _Refused(f"the instance does not run on version {target.version}: {error}") from error
    if dry_run:
        move.status = WOULD_MIGRATE
        return
    _save(session, instance, target, moved, events, move, actor)


def _save(
    session: Session,
    instance: ProcessInstance,
    target: ProcessDefinition,
    run: engine.Run,
    events: list[Any],
    move: TicketMove,
    actor: str,
) -> None:
    ticket = session.get(Ticket, instance.ticket_id)
    assert ticket is not None
    instance.definition_id = target.id
    try:
        project(session, instance=instance, ticket=ticket, run=run, events=events, actor=actor)
        record(
            session,
            ticket,
            actor,
            "process_migrated",
            process=target.key,
            from_version=move.from_version,
            to_version=target.version,
            added=move.added,
            removed=move.removed,
            changed=move.changed,
        )
        session.flush()
    except StaleDataError as error:
        raise _Refused("the ticket moved on while it was being migrated; try again") from error
    move.status = MIGRATED
