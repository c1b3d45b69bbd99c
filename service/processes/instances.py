"""Starting, loading and stepping process instances, one transaction at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service import engine
from service.clients.models import Equipment
from service.config import Config
from service.context import Context
from service.db import is_postgres
from service.errors import Conflict, Invalid, NotFound, ProcessFailed, from_the_database
from service.observability import metrics
from service.processes.definitions import Version
from service.processes.models import ProcessInstance
from service.processes.projection import project
from service.rows import insert_object
from service.sla.timeline import Timeline
from service.tasks.models import UserTask
from service.tickets.facts import ticket_facts
from service.tickets.models import INCIDENT, Ticket
from service.tickets.schemas import TicketCreateSchema

log = logging.getLogger("orchestrator.processes")


def script_limits(config: Config) -> engine.ScriptLimits:
    """The engine's budgets for scripts and instance data, from the configuration."""
    return engine.ScriptLimits(
        cpu_seconds=config.script_cpu_seconds,
        memory_bytes=int(config.script_memory_mb * 2**20),
        data_bytes=int(config.instance_data_mb * 2**20),
    )


#: Moves a just started run on before anything of it is stored: given the run and a function that runs it until it
#: waits (returning what happened), returns what happened.
Drive = Callable[[engine.Run, Callable[[], list[Any]]], list[Any]]
#: The engine's callback for business rule tasks: `decide(ruleset, facts)`.
Decide = Callable[[str, dict[str, Any]], Any]


def start_instance(
    session: Session,
    ctx: Context,
    *,
    ticket: Ticket,
    actor: str,
    decide: Callable[[Decide], Decide] | None = None,
    drive: Drive | None = None,
) -> ProcessInstance:
    """Start the ticket process for a new ticket and run it until it waits.

    An import moves the instance on to where the ticket stands (`drive`) before its tasks and jobs are written, and
    may give the decisions of that first run (`decide` wraps the rules' decider); the stored instance is a normal one.
    """
    version, definition = ctx.definitions.latest(session, key=ctx.config.ticket_process)
    rules = ctx.rules.decider(session)
    facts = {**ticket_facts(ticket, today=date.today()), "paid": False}
    run = definition.start(
        facts, decide=decide(rules) if decide else rules, limits=script_limits(ctx.config), starter=actor
    )
    try:
        events = advance_run(run, version)
        if drive is not None:
            events += drive(run, lambda: advance_run(run, version))
        try:
            document = run.serialize()
        except engine.EngineError as error:
            raise process_failure(error, version) from error
    except ProcessFailed as failure:  # nothing of the instance was written yet: the ticket itself is still whole
        failure.ticket_id, failure.actor, failure.action, failure.action_data = ticket.id, actor, "start", {}
        raise
    instance = ProcessInstance(
        definition_id=version.id, ticket_id=ticket.id, document=document, completed=run.completed
    )
    insert_object(session, instance)
    project(session, instance=instance, ticket=ticket, run=run, events=events, actor=actor, new=True)
    return instance


def step_instance(
    session: Session,
    ctx: Context,
    *,
    ticket_id: int,
    actor: str,
    action: Callable[[engine.Run], Any],
    refresh_facts: bool = False,
    completes: str | None = None,
    redo: tuple[str, dict[str, Any]] | None = None,
    retrying: int | None = None,
    drive: Drive | None = None,
    locked: Locked | None = None,
    history_to: list[dict[str, Any]] | None = None,
) -> Any:
    """Lock the ticket's instance, apply `action` to it, run it until it waits, and save it with its projections.

    `drive` may move the run on further before it is saved (the worker runs the jobs the step made ready, in a
    chain: `service.jobs.services`), so that a series of steps costs one restore, one serialisation, one projection.

    Two callers stepping one instance cannot both win: PostgreSQL locks the row, and the version column refuses a
    stale write everywhere (409). When the engine fails (a script error, a budget) ProcessFailed is raised, naming
    the ticket, the actor and `redo` (what the step was doing, and its data, so that it can be done again): the
    caller rolls back and records the incident (``service.incidents.records``). A ticket stopped by an incident
    takes no step (409) but the retry of that incident (`retrying`, its id).

    A caller that has locked the instance already gives it (`locked`), with its open task rows read under the lock
    and the history rows to write with the step's; a caller that writes history of its own after the step gives
    `history_to`, which the step's rows are appended to instead of being written (the caller writes them all).
    """
    instance = locked.instance if locked is not None else lock_instance(session, ticket_id=ticket_id)
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    if ticket.status == INCIDENT and retrying is None:
        raise Conflict(f"ticket {ticket.number} is stopped by an incident: retry it (see /incidents) first")
    row, definition = ctx.definitions.by_id(session, definition_id=instance.definition_id)
    run = definition.restore(instance.document, decide=ctx.rules.decider(session), limits=script_limits(ctx.config))
    try:
        outcome = action(run)
    except engine.FormError as error:
        raise Invalid("the form is not satisfied", errors=error.errors) from error
    except engine.TaskNotOpen as error:
        raise Conflict(f"the task is no longer open: {error}") from error
    except engine.EngineError as error:  # what the action set off failed (the next task's assignment, a timer)
        raise _with_step(process_failure(error, row), ticket_id, actor, redo, retrying) from error
    if refresh_facts:
        _apply_form_to_ticket(session, ticket, run.variables())
        run.update_data(ticket_facts(ticket, today=date.today()))
    done = frozenset({completes}) if completes else frozenset()
    try:
        try:
            with session.no_autoflush:  # the rules it reads do not depend on the ticket's pending fields
                events = advance_run(run, row)
                if drive is not None:
                    events += drive(run, lambda: advance_run(run, row))
            given = {"history_to": history_to, **(locked.given() if locked is not None else {})}
            project(
                session, instance=instance, ticket=ticket, run=run, events=events, actor=actor, completed=done, **given
            )
        except engine.EngineError as error:  # serialising refused the instance's data
            raise process_failure(error, row) from error
        session.flush()
    except ProcessFailed as failure:
        _with_step(failure, ticket_id, actor, redo, retrying)
        raise
    except StaleDataError as error:  # the instance's version moved on: written by another transaction
        raise Conflict("the ticket moved on while this request ran; reload and try again") from error
    return outcome


@dataclass
class Locked:
    """An instance its caller has locked, the open task rows it read under that lock, and history rows that the
    step writes with its own (in one statement)."""

    instance: ProcessInstance
    #: None: the projection reads them itself.
    open_rows: list[UserTask] | None
    history: list[dict[str, Any]] = field(default_factory=list)
    #: The step completes an engineering team's task: the clocks' reaction in the step's own refresh.
    responds: bool = False
    #: The ticket's SLA timeline and clocks read under the lock (None: not read, the clocks' refresh reads them).
    timeline: Timeline | None = None

    def given(self) -> dict[str, Any]:
        """What the projection takes of it."""
        return {
            "open_rows": self.open_rows,
            "history": self.history,
            "responds": self.responds,
            "timeline": self.timeline,
        }


def _with_step(
    failure: ProcessFailed, ticket_id: int, actor: str, redo: tuple[str, dict[str, Any]] | None, retrying: int | None
) -> ProcessFailed:
    """The failure, naming the step that failed: whose ticket, who, what it was doing and the incident retried."""
    failure.ticket_id, failure.actor, failure.incident_id = ticket_id, actor, retrying
    failure.action, failure.action_data = redo or ("step", {})
    return failure


def lock_instance(session: Session, *, ticket_id: int) -> ProcessInstance:
    """The ticket's instance, read afresh and locked until the transaction ends: the one lock that every change to
    the ticket's flow takes (a step, a claim or a completion of one of its tasks), so that of two callers one waits
    and then sees what the other did. PostgreSQL locks the row (`SELECT ... FOR UPDATE`); on SQLite every
    transaction holds the database's write lock from its start."""
    instance = session.scalar(_LOCKS[is_postgres(session)], {"ticket_id": ticket_id})
    if instance is None:
        raise NotFound("the ticket has no process instance")
    return instance


def lock_instance_of_task(session: Session, *, task_id: str) -> ProcessInstance | None:
    """The instance of the task's ticket, locked as `lock_instance` locks it, in one query; None when there is no
    such task (or its ticket has no instance)."""
    return session.scalar(_LOCKS_OF_TASK[is_postgres(session)], {"task_id": task_id})


def ticket_of_task(task_id: Any) -> Any:
    """The id of the task's ticket, as a subquery."""
    return select(UserTask.ticket_id).where(UserTask.id == task_id).scalar_subquery()


def _locking(ticket_id: Any) -> dict[bool, Select[tuple[ProcessInstance]]]:
    """The read of a ticket's instance, as SQLite (False) and PostgreSQL (True) lock it; built once, with bound
    parameters."""
    query = select(ProcessInstance).where(ProcessInstance.ticket_id == ticket_id)
    query = query.execution_options(populate_existing=True)
    return {False: query, True: query.with_for_update()}


_LOCKS = _locking(bindparam("ticket_id"))
_LOCKS_OF_TASK = _locking(ticket_of_task(bindparam("task_id")))


def advance_run(run: engine.Run, version: Version) -> list[Any]:
    started = time.perf_counter()
    try:
        events = run.advance()
    except engine.EngineError as error:
        metrics.engine_ran(seconds=time.perf_counter() - started, ok=False)
        raise process_failure(error, version) from error
    metrics.engine_ran(seconds=time.perf_counter() - started, ok=True)
    return events


def process_failure(error: engine.EngineError, version: Version) -> ProcessFailed:
    where = f" at {error.element_id}" if error.element_id else ""
    detail = error.detail
    database = from_the_database(error)
    if database:  # its text names the statement and its parameters: logged, never shown
        log.error("the process failed%s on a database error", where, exc_info=error)
        detail = "a database error (logged)"
    failure = ProcessFailed(
        f"the process failed{where}: {detail}",
        element=error.element_id,
        file=version.filename,
        process=version.key,
        version=version.version,
        budget=True if error.budget else None,
    )
    failure.database = database
    return failure


#: Form fields that, once a person fills them in, change the ticket itself.
TICKET_FIELDS = ("description", "severity", "category")


def _apply_form_to_ticket(session: Session, ticket: Ticket, data: dict[str, Any]) -> None:
    given = {name: data[name] for name in (*TICKET_FIELDS, "equipment_serial") if data.get(name) not in (None, "")}
    if not given:
        return
    try:  # the same rules as at intake: a form must not carry what opening the ticket would refuse
        checked = _ticket_fields_schema(tuple(given)).load(given)
    except ValidationError as error:
        raise Invalid("the form is not satisfied", errors=error.normalized_messages()) from error
    for name in TICKET_FIELDS:
        if name in checked:
            setattr(ticket, name, checked[name])
    serial = checked.get("equipment_serial")
    if serial and (ticket.equipment is None or ticket.equipment.serial != serial):
        ticket.equipment = find_equipment(session, client_id=ticket.client_id, serial=serial)


@cache
def _ticket_fields_schema(names: tuple[str, ...]) -> TicketCreateSchema:
    """The intake's schema of these fields alone, made once for each set of fields a form fills in."""
    return TicketCreateSchema(only=names, partial=True)


def find_equipment(session: Session, *, client_id: int, serial: str) -> Equipment:
    """The client's equipment with that serial number (422 when the client has none such)."""
    equipment = session.scalar(select(Equipment).where(Equipment.serial == serial, Equipment.client_id == client_id))
    if equipment is None:
        raise unknown_equipment(serial)
    return equipment


def unknown_equipment(serial: str) -> Invalid:
    """The refusal of a serial number the client has no equipment under."""
    return Invalid("unknown equipment", errors={"equipment_serial": [f"the client has no equipment {serial!r}"]})
