"""Writing an instance's projections (ticket summary, open tasks, jobs, decisions, history) after each step."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, lazyload

from service import engine
from service.db import utcnow
from service.jobs.models import CANCELLED_JOB, DONE, FAILED, PENDING, RUNNING, Job
from service.jobs.topics import PROCESS_TOPICS, TOPICS
from service.observability import metrics, request_id
from service.processes.models import ProcessInstance
from service.rows import insert_rows, mark_stored, upsert_rows, write_changes
from service.sla import tracking as sla_tracking
from service.sla.timeline import Timeline
from service.tasks.models import CANCELLED, COMPLETED, OPEN, TaskCandidate, TaskCandidateUser, UserTask
from service.tickets.history import history_row
from service.tickets.models import DecisionRecord, HistoryEvent, Ticket
from service.timers.projection import sync_timers

#: The statuses a user task may give the ticket (its `status` property in the diagram), most advanced first: when
#: several tasks are open, the ticket shows the most advanced one's.
TASK_STATUSES = (
    "manager_review",
    "onsite",
    "ordering_parts",
    "in_progress",
    "awaiting_payment",
    "estimating",
    "clarifying",
)
STATUS_BY_MESSAGE = {"parts_delivered": "waiting_parts"}
TICKET_VARIABLES = ("route", "paid", "team", "level", "circle", "folder_url")
#: What a user task's `sla` property pauses the clocks for (`reaction` pauses nothing).
PAUSE_BY_SLA = {"pause_client": "client", "pause_parts": "parts"}


def ticket_status(run: engine.Run, open_tasks: list[engine.UserTaskView], previous: str) -> str:
    """The ticket's status from what its instance waits for: the open tasks' declared statuses, then messages."""
    if run.completed:
        return str(run.variables().get("status") or "closed")
    declared = {task.status for task in open_tasks if task.status}
    for status in TASK_STATUSES:
        if status in declared:
            return status
    for message in run.waiting_messages():
        if message in STATUS_BY_MESSAGE:
            return STATUS_BY_MESSAGE[message]
    return "new" if previous == "new" else previous


def project(
    session: Session,
    *,
    instance: ProcessInstance,
    ticket: Ticket,
    run: engine.Run,
    events: list[Any],
    actor: str,
    completed: frozenset[str] = frozenset(),
    new: bool = False,
    open_rows: list[UserTask] | None = None,
    history: list[dict[str, Any]] | None = None,
    responds: bool = False,
    history_to: list[dict[str, Any]] | None = None,
    timeline: Timeline | None = None,
) -> None:
    """Store the instance's document and bring every projection in line with it, in the caller's transaction.

    A `new` instance was inserted with its document and has no tasks or jobs yet, which saves three queries. The
    caller may give the instance's open task rows it has just read under the lock (`open_rows`), and `history` rows
    of its own to write after the step's: the step's history is written in one statement. `responds`: the step
    completed an engineering team's task, which the clocks take as the reaction if it is the first. With
    `history_to`, the step's history rows are appended to it, for the caller to write with its own. `timeline`: the
    ticket's SLA segments and clocks the caller read under the lock.
    """
    now = utcnow()
    if not new:
        instance.document = run.serialize()
        instance.completed = run.completed
        instance.updated_at = now
        write_changes(session, instance)
    decisions = [event for event in events if isinstance(event, engine.DecisionTaken)]
    for event in decisions:
        metrics.decision_taken(ruleset=event.ruleset, outcome=event.outcome, copied=event.copied)
    insert_rows(
        session,
        DecisionRecord,
        [
            {
                "ticket_id": ticket.id,
                "at": now,
                "element_id": event.element_id,
                "ruleset": event.ruleset,
                "version": str(event.version),
                "rule": event.rule,
                "outcome": dict(event.outcome),
                "facts": dict(event.facts),
            }
            for event in decisions
        ],
    )
    events_written = [
        history_row(
            ticket,
            actor,
            "decision",
            {
                "ruleset": event.ruleset,
                "rule": event.rule,
                "version": str(event.version),
                "outcome": dict(event.outcome),
            },
        )
        for event in decisions
    ]
    user_tasks = run.user_tasks()
    _sync_tasks(session, instance, ticket, user_tasks, actor, now, completed, new, open_rows)
    add_jobs(session, instance, ticket.id, run.external_tasks(), new)
    end_cancelled_jobs(session, run, now)
    sync_timers(session, instance=instance, run=run, events=events, now=now, new=new)
    touched = now if responds else None
    events_written += _update_ticket(session, ticket, run, user_tasks, actor, now, new, touched, timeline)
    events_written += history or []
    if history_to is not None:
        history_to += events_written
    else:
        insert_rows(session, HistoryEvent, events_written)


def _sync_tasks(
    session: Session,
    instance: ProcessInstance,
    ticket: Ticket,
    user_tasks: list[Any],
    actor: str,
    now: datetime,
    completed: frozenset[str],
    new: bool,
    open_rows: list[UserTask] | None,
) -> None:
    if new:
        existing: dict[str, UserTask] = {}
    elif open_rows is not None:
        existing = {task.id: task for task in open_rows if task.state == OPEN and task.instance_id == instance.id}
    else:
        # The rows alone: their ticket is the one being stepped and their candidates are not read here.
        only_rows = (lazyload(UserTask.ticket), lazyload(UserTask.candidates))
        query = select(UserTask).where(UserTask.instance_id == instance.id, UserTask.state == OPEN).options(*only_rows)
        with session.no_autoflush:  # what is pending (the ticket's fields) is written once, with the rest of the step
            existing = {task.id: task for task in session.scalars(query)}
    current = {task.id: task for task in user_tasks}
    ended = [row for task_id, row in existing.items() if task_id not in current]
    for row in ended:
        row.state = COMPLETED if row.id in completed else CANCELLED
        row.ended_at = now
        row.completed_by = actor if row.id in completed else None
    added = [task for task_id, task in current.items() if task_id not in existing]
    opened = {"claimed_by": None, "state": OPEN, "created_at": now, "ended_at": None, "completed_by": None}
    new_rows = [
        {
            "id": task.id,
            "instance_id": instance.id,
            "ticket_id": ticket.id,
            "name": task.name,
            "title": task.title or task.name,
            "assignee": task.assignee,
            "form": [field.to_dict() for field in task.form_fields],
            "priority": task.priority,
            "due_at": _parse_due(task.due),
            "sla": task.sla,
            **opened,
        }
        for task in added
    ]
    # The ended rows and the new ones in one statement: an ended row, its id taken, sets its end.
    rows = [{column: getattr(row, column) for column in _TASK_COLUMNS} for row in ended] + new_rows
    upsert_rows(session, UserTask, rows, update=("state", "ended_at", "completed_by"))
    mark_stored(session, *ended)
    groups = [(task.id, group) for task in added for group in sorted(set(task.candidate_groups))]
    insert_rows(session, TaskCandidate, [{"task_id": task_id, "group_name": group} for task_id, group in groups])
    people = [(task.id, name) for task in added for name in sorted(set(task.candidate_users))]
    insert_rows(session, TaskCandidateUser, [{"task_id": task_id, "username": name} for task_id, name in people])


#: A task row's columns (their attributes have the same names).
_TASK_COLUMNS = tuple(column.name for column in UserTask.__table__.columns)


def add_jobs(
    session: Session, instance: ProcessInstance, ticket_id: int | None, external_tasks: list[Any], new: bool
) -> None:
    """A job for each external task the instance waits on that has none yet (`ticket_id`: the jobs' ticket)."""
    if not external_tasks:
        return
    ids = [task.id for task in external_tasks]
    known = set() if new else set(session.scalars(select(Job.task_id).where(Job.task_id.in_(ids))))
    rows = [
        {
            "instance_id": instance.id,
            "ticket_id": ticket_id,
            "task_id": task.id,
            "element_id": task.name,
            "topic": task.topic,
            "external": task.topic not in TOPICS
            and task.topic not in PROCESS_TOPICS,  # deployed as left to outside workers
            "variables": dict(task.variables),
            "request_id": request_id.current(),
        }
        for task in external_tasks
        if task.id not in known
    ]
    insert_rows(session, Job, rows)


def end_cancelled_jobs(session: Session, run: engine.Run, now: datetime) -> None:
    """The jobs of the external tasks this step cancelled (an interrupting event, a moved token) are done, with
    nothing to complete: a worker does not run one that waits or failed, and one that runs now finds it done when it
    comes to complete it (`service.jobs.services`)."""
    cancelled = run.cancelled_external_tasks()
    if cancelled:
        session.execute(
            update(Job)
            .where(Job.task_id.in_(sorted(cancelled)), Job.status.in_((PENDING, RUNNING, FAILED)))
            .values(status=DONE, result=CANCELLED_JOB, locked_until=None, updated_at=now)
        )


def _update_ticket(
    session: Session,
    ticket: Ticket,
    run: engine.Run,
    open_tasks: list[engine.UserTaskView],
    actor: str,
    now: datetime,
    new: bool,
    touched: datetime | None,
    timeline: Timeline | None,
) -> list[dict[str, Any]]:
    """Bring the ticket's fields and clocks in line with the run; the history rows of what changed, to write."""
    data = run.variables()
    changed = False
    written: list[dict[str, Any]] = []
    for name in TICKET_VARIABLES:
        value = data.get(name)
        if value is not None and getattr(ticket, name) != value:
            setattr(ticket, name, value)
            changed = True
    status = ticket_status(run, open_tasks, ticket.status)
    if status != ticket.status:
        detail = {"old": ticket.status, "new": status, "team": ticket.team, "level": ticket.level}
        written.append(history_row(ticket, actor, "status_changed", detail))
        ticket.status = status
        changed = True
        if run.completed:
            ticket.closed_at = now
    if changed:
        ticket.updated_at = now
        write_changes(session, ticket)
    pause = _pause(run, open_tasks)
    sla_tracking.on_ticket_changed(
        session, ticket, variables=data, now=now, new=new, pause=pause, touched=touched, timeline_read=timeline
    )
    return written


def _pause(run: engine.Run, open_tasks: list[engine.UserTaskView]) -> str:
    """Why the clocks pause now: an open task's `sla` says (the client's wait first), or the parts message awaited."""
    pauses = {PAUSE_BY_SLA.get(task.sla or "", "") for task in open_tasks}
    if open_tasks:
        return "client" if "client" in pauses else "parts" if "parts" in pauses else ""
    return "parts" if any(STATUS_BY_MESSAGE.get(m) == "waiting_parts" for m in run.waiting_messages()) else ""


def _parse_due(value: str | None) -> datetime | None:
    """A due date from the diagram (ISO date or date-time); a date means its start, in UTC."""
    if not value:
        return None
    try:
        due = engine.from_iso(value)
    except ValueError:
        return None
    return due if due.tzinfo else due.replace(tzinfo=timezone.utc)
