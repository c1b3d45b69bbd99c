"""The queues: listing, claiming and completing user tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, bindparam, literal_column, or_, select, union_all, update
from sqlalchemy.orm import Session, joinedload

from service.auth.models import Caller
from service.auth.permissions import may_work_on
from service.clients.models import Client, PriceItem, Site
from service.context import Context
from service.db import insert_unless_present, is_postgres
from service.errors import Conflict, Invalid, NotFound
from service.prices import one_off
from service.prices.services import prices_for
from service.processes.instances import Locked, lock_instance, lock_instance_of_task, step_instance, ticket_of_task
from service.processes.models import ProcessInstance
from service.sla import hooks as sla_hooks
from service.sla.models import Segment, SlaClock
from service.sla.timeline import clocks_beside_latest_segment, timeline_of
from service.tasks import reviews as breach_reviews
from service.tasks.models import OPEN, CompletionKey, UserTask
from service.tickets.history import history_row, record
from service.tickets.models import Ticket
from service.tickets.services import request_fingerprint


def get_task(session: Session, *, user: Caller, task_id: str) -> Any:
    """One task in the user's queues (404 otherwise, without a hint that it exists)."""
    number = breach_reviews.review_id(task_id)
    if number is not None:
        return breach_reviews.get(session, user=user, task_id=task_id, number=number)
    task = session.get(UserTask, task_id)
    if task is None or not _may_work_on(user, task):
        raise NotFound(f"no task {task_id}")
    return task


def _may_work_on(user: Caller, task: UserTask) -> bool:
    """A task of the user's queues, assigned to them, or naming them among its candidate users (read only when the
    rest does not decide: most tasks name none)."""
    return may_work_on(user, task.candidate_groups, task.assignee) or user.username in task.candidate_users


def price_list(session: Session, *, task: Any) -> list[PriceItem]:
    """The prices of the ticket's equipment valid on the day the ticket was opened, for the consultant who prices
    per-call work (the most specific price of each item: of its vendor and model, of its vendor, of its class)."""
    ticket = task.ticket
    if task.name != "estimate" or ticket.equipment is None:
        return []
    return prices_for(session, equipment=ticket.equipment, day=ticket.created_at.date())


def task_site(task: Any) -> Site | None:
    """The site of the ticket's equipment (loaded with the ticket: no query of its own), or None."""
    equipment = task.ticket.equipment
    return equipment.site if equipment is not None else None


def get_open_task(session: Session, *, user: Caller, task_id: str) -> UserTask:
    """One open task in the user's queues (409 when it has ended)."""
    task = get_task(session, user=user, task_id=task_id)
    if task.state != OPEN:
        raise Conflict(f"the task is no longer open: it was {task.state}")
    return task


def _locked_task(session: Session, *, user: Caller, task_id: str) -> UserTask:
    """The open task as it is once its ticket's instance is locked, still free for the user (409 otherwise).

    The instance lock is the one a completion and every other step takes, so of two people claiming, or one claiming
    while another completes, one goes first and the other sees what it did."""
    task = session.get(UserTask, task_id)
    assert task is not None
    session.refresh(task, attribute_names=("state", "claimed_by"))  # as the lock's last holder left it; one read
    if task.state != OPEN:
        raise Conflict(f"the task is no longer open: it was {task.state}")
    if task.claimed_by not in (None, user.username):
        raise Conflict(f"the task is claimed by {task.claimed_by}")
    return task


def claim_task(session: Session, *, user: Caller, task_id: str) -> Any:
    """Take a task so that nobody else works on it (409 when someone else holds it)."""
    number = breach_reviews.review_id(task_id)
    if number is not None:
        return breach_reviews.claim(session, user=user, task_id=task_id, number=number)
    task = get_open_task(session, user=user, task_id=task_id)
    lock_instance(session, ticket_id=task.ticket_id)
    task = _locked_task(session, user=user, task_id=task_id)
    if task.claimed_by is None:
        task.claimed_by = user.username
        ticket = session.get(Ticket, task.ticket_id)
        assert ticket is not None
        record(session, ticket, user.username, "task_claimed", task=task.name, task_id=task.id)
        sla_hooks.task_claimed(session, task=task, actor=user.username)
    return task


def release_task(session: Session, *, user: Caller, task_id: str) -> Any:
    """Give back a task the user holds, so that anyone of its queues may take it (409 when someone else holds it)."""
    if breach_reviews.review_id(task_id) is not None:
        get_task(session, user=user, task_id=task_id)  # 404 when it is not the user's to see
        raise Conflict("a breach review is not given back: its reviewer completes it")
    task = get_open_task(session, user=user, task_id=task_id)
    lock_instance(session, ticket_id=task.ticket_id)
    task = _locked_task(session, user=user, task_id=task_id)
    if task.claimed_by is not None:
        task.claimed_by = None
        ticket = session.get(Ticket, task.ticket_id)
        assert ticket is not None
        record(session, ticket, user.username, "task_released", task=task.name, task_id=task.id)
    return task


def complete_task(
    session: Session,
    ctx: Context,
    *,
    user: Caller,
    task_id: str,
    data: dict[str, Any],
    idempotency_key: str | None = None,
) -> Ticket:
    """Complete a task with the form's data and run the ticket's process on until it waits again.

    With an `idempotency_key`, the same completion sent again by the same person (a form replayed once the
    connection came back, a retry after a lost answer) answers the ticket the first one completed, instead of 409;
    the key sent again with another task or other values is refused (422)."""
    if not idempotency_key:
        return _complete(session, ctx, user=user, task_id=task_id, data=data)
    fingerprint = request_fingerprint({"task_id": task_id, "data": data})
    row = {"user_id": user.id, "key": idempotency_key, "task_id": task_id, "fingerprint": fingerprint}
    key_id = insert_unless_present(session, CompletionKey, row, unique=("user_id", "key"))
    if key_id is None:
        return _completed_by_key(session, user=user, key=idempotency_key, fingerprint=fingerprint)
    ticket = _complete(session, ctx, user=user, task_id=task_id, data=data)
    session.execute(update(CompletionKey).where(CompletionKey.id == key_id).values(ticket_id=ticket.id))
    return ticket


def _completed_by_key(session: Session, *, user: Caller, key: str, fingerprint: str) -> Ticket:
    """The ticket whose task an earlier completion of the caller's completed with this key (422 when that
    completion was another one). The caller completed it, so the caller gets it whatever they may read now."""
    earlier = session.scalars(select(CompletionKey).where(CompletionKey.user_id == user.id, CompletionKey.key == key))
    found = earlier.one()
    if found.fingerprint != fingerprint:
        raise Invalid(
            "this Idempotency-Key was sent before with another completion: send a new key for a new completion",
            errors={"Idempotency-Key": ["already used for another task or other values"]},
        )
    ticket = session.get(Ticket, found.ticket_id) if found.ticket_id is not None else None
    if ticket is None:  # the ticket was deleted since
        raise Conflict("the ticket this Idempotency-Key completed a task of no longer exists")
    return ticket


def _complete(session: Session, ctx: Context, *, user: Caller, task_id: str, data: dict[str, Any]) -> Ticket:
    number = breach_reviews.review_id(task_id)
    if number is not None:
        return breach_reviews.complete(session, user=user, task_id=task_id, number=number, data=data)
    locked, task = _lock_for_completion(session, user=user, task_id=task_id)
    return finish_completion(session, ctx, actor=user.username, task=task, data=data, locked=locked)


def _lock_for_completion(session: Session, *, user: Caller, task_id: str) -> tuple[Locked, UserTask]:
    """Lock the task's instance, then read, as the lock's last holder left them, the task with its ticket, client,
    contracts and candidates, the instance's other open tasks, and the ticket's SLA timeline with its clocks: one
    query for everything the step reads of them after the lock's own (404 when the task is not in the user's queues,
    409 when it has ended or someone else holds it). On SQLite the transaction holds the write lock from its start:
    the instance comes with the tasks, and the task's ticket is found in the same query."""
    params: dict[str, Any] = {"task_id": task_id}
    query = _TASK_UNDER_LOCK_SQLITE
    instance: ProcessInstance | None = None
    if is_postgres(session):
        instance = lock_instance_of_task(session, task_id=task_id)
        if instance is None:
            get_task(session, user=user, task_id=task_id)  # 404 for no such task
            raise NotFound("the ticket has no process instance")
        query, params["ticket_id"] = _TASK_UNDER_LOCK, instance.ticket_id
    rows = session.execute(query, params).unique().all()
    tasks = {row[0].id: row for row in rows if row[0] is not None}
    row = tasks.get(task_id)
    task = row[0] if row is not None else None
    if instance is None and row is not None:
        instance = row[3]
    if task is None or instance is None or not _may_work_on(user, task):
        raise NotFound(f"no task {task_id}")
    if task.state != OPEN:
        raise Conflict(f"the task is no longer open: it was {task.state}")
    if task.claimed_by not in (None, user.username):
        raise Conflict(f"the task is claimed by {task.claimed_by}")
    timeline = timeline_of((row[1], row[2]) for row in rows)
    return Locked(instance, open_rows=[row[0] for row in tasks.values()], timeline=timeline), task


def _task_under_lock(ticket_id: Any, *, with_instance: bool) -> Select[Any]:
    """The read of `_lock_for_completion`, in two kinds of rows: the task (`task_id`) and the open tasks of its ticket
    (`ticket_id`), with their candidates, ticket, client and contracts (and, `with_instance`, the task's instance:
    PostgreSQL locks it first, reading it whole, so its rows leave out its ten-kilobyte document); and, with no task,
    the ticket's SLA timeline: each segment, the clocks beside the latest (`timeline_of`). Kept apart, the timeline's
    rows do not repeat the task's hundred columns and the objects built of them."""
    task_id: Any = bindparam("task_id")
    part = union_all(select(literal_column("1").label("part")), select(literal_column("2").label("part"))).subquery()
    query = select(UserTask, Segment, SlaClock).select_from(part)
    tasks = or_(UserTask.id == task_id, and_(UserTask.ticket_id == ticket_id, UserTask.state == OPEN))
    query = query.outerjoin(UserTask, and_(part.c.part == 1, tasks))
    if with_instance:
        query = query.add_columns(ProcessInstance).outerjoin(
            ProcessInstance, ProcessInstance.id == UserTask.instance_id
        )
    return (
        query.outerjoin(Segment, and_(part.c.part == 2, Segment.ticket_id == ticket_id))
        .outerjoin(SlaClock, clocks_beside_latest_segment())
        .options(
            joinedload(UserTask.candidates),
            joinedload(UserTask.ticket).joinedload(Ticket.client).joinedload(Client.contracts),
        )
        .execution_options(populate_existing=True)
    )


#: Built once, with bound parameters. PostgreSQL: the ticket is the locked instance's; SQLite: the task's, found in
#: the same query.
_TASK_UNDER_LOCK = _task_under_lock(bindparam("ticket_id"), with_instance=False)
_TASK_UNDER_LOCK_SQLITE = _task_under_lock(ticket_of_task(bindparam("task_id")), with_instance=True)


def finish_completion(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    task: UserTask,
    data: dict[str, Any],
    locked: Locked | None = None,
) -> Ticket:
    """Complete the open `task` as `actor` and run the process on.

    The caller has checked who may complete it (a person's queue, under the lock: `_lock_for_completion`; or the
    retry of its incident, whose task the engine refuses if it is no longer open). A failing step
    names the task and its form, so that the retry of its incident completes it again with the same data. A caller
    that has locked the instance and read its open tasks gives them (`locked`): the completion is written in the
    step's history statement.
    """
    task_id, ticket_id, name = task.id, task.ticket_id, task.name
    estimate: dict[str, Any] = {}
    completed = {"task": name, "task_id": task_id, "data": data}
    if locked is not None:
        locked.history.append(history_row(task.ticket, actor, "task_completed", completed))
        locked.responds = sla_hooks.responds(task)

    def complete(run: Any) -> None:  # runs once the instance is locked
        if one_off.accepted(name, data):  # what the consultant priced, as the instance holds it before this form
            estimate.update(run.data)
        run.complete_user_task(task_id, data)

    step_instance(
        session,
        ctx,
        ticket_id=ticket_id,
        actor=actor,
        action=complete,
        refresh_facts=True,
        completes=task_id,
        redo=("complete_task", {"task_id": task_id, "task": name, "data": data}),
        locked=locked,
    )
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    if locked is None:
        record(session, ticket, actor, "task_completed", **completed)
    sla_hooks.task_completed(session, task=task, actor=actor, data=data, tracked=locked is not None)
    if one_off.accepted(name, data):
        contract = one_off.record_acceptance(session, ticket=ticket, variables=estimate, data=data, actor=actor)
        record(session, ticket, actor, "one_off_contract", number=contract.number)
    return ticket
