"""Reassigning an open task: duty officers and managers give it to a person of its team, or move it to another
level queue of the same team (`storage-L1` -> `storage-L2`).

The task's row is what the queues read, and a step of the ticket's process never rewrites the row of a task that
stays open, so the change holds until the task ends. It takes the ticket's instance lock, like a claim, so it never
crosses a completion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Caller, Group, User
from service.auth.permissions import Permission, allowed, authorize, visible_tickets
from service.errors import Conflict, Invalid, NotFound
from service.processes.instances import lock_instance
from service.tasks import services
from service.tasks.models import OPEN, TaskCandidate, UserTask
from service.teams.models import LEVELS
from service.tickets.history import record
from service.tickets.models import Ticket

#: A team's level queue is `<team>-L<level>`.
LEVEL_MARK = "-L"


@dataclass(frozen=True)
class Choices:
    """Where a task may go: the other level queues of its team and the active people of the team."""

    team: str | None
    groups: list[str]
    people: list[str]


def team_of(groups: list[str]) -> str | None:
    """The one team whose level queues hold the task, or None (a function's queue, or queues of several teams)."""
    teams = {name.rsplit(LEVEL_MARK, 1)[0] for name in groups if LEVEL_MARK in name}
    return teams.pop() if len(teams) == 1 else None


def team_groups(team: str) -> list[str]:
    """The level queues of a team, L1 first."""
    return [f"{team}{LEVEL_MARK}{level}" for level in LEVELS]


def reassignable_task(session: Session, *, user: Caller, task_id: str) -> UserTask:
    """A task of a ticket the caller sees, for someone who may reassign tasks (403 otherwise; 404 when there is no
    such task or its ticket is not the caller's to see)."""
    authorize(user, Permission.REASSIGN_TASKS)
    task = session.get(UserTask, task_id)
    if task is None or session.scalar(visible_tickets(user).where(Ticket.id == task.ticket_id)) is None:
        raise NotFound(f"no task {task_id}")
    return task


def task_to_show(session: Session, *, user: Caller, task_id: str) -> tuple[Any, bool]:
    """The task for its page, and whether the caller may work on it: a task of their queues, else (for someone who
    may reassign tasks) one they may only reassign; 404 for anyone else, as the API answers."""
    try:
        return services.get_task(session, user=user, task_id=task_id), True
    except NotFound:
        if not allowed(user, Permission.REASSIGN_TASKS):
            raise
    return reassignable_task(session, user=user, task_id=task_id), False


def choices(session: Session, *, user: Caller, task: Any) -> Choices:
    """Where the caller may send the task: empty for someone who may not reassign, or a task that has ended or is
    in no team's queue."""
    if not isinstance(task, UserTask) or task.state != OPEN or not allowed(user, Permission.REASSIGN_TASKS):
        return Choices(None, [], [])
    team = team_of(task.candidate_groups)
    if team is None:
        return Choices(None, [], [])
    groups = [name for name in team_groups(team) if name not in task.candidate_groups]
    known = set(session.scalars(select(Group.name).where(Group.name.in_(groups))))
    return Choices(team, [name for name in groups if name in known], _people(session, team))


def _people(session: Session, team: str) -> list[str]:
    query = (
        select(User.username)
        .join(User.groups)
        .where(Group.name.in_(team_groups(team)), User.active.is_(True))
        .distinct()
        .order_by(User.username)
    )
    return list(session.scalars(query))


def assign_task(
    session: Session, *, user: Caller, task_id: str, person: str | None = None, group: str | None = None
) -> UserTask:
    """Give an open task to a person of its team (they hold it at once), or move it to another level queue of its
    team (nobody holds it then). 422 for a person or a queue outside the team; 409 when the task has ended."""
    task = reassignable_task(session, user=user, task_id=task_id)
    lock_instance(session, ticket_id=task.ticket_id)
    session.refresh(task, attribute_names=("state", "claimed_by", "assignee", "candidates"))
    if task.state != OPEN:
        raise Conflict(f"the task is no longer open: it was {task.state}")
    before = {"groups": task.candidate_groups, "assignee": task.assignee, "claimed_by": task.claimed_by}
    team = team_of(task.candidate_groups)
    if team is None:
        field = "user" if person is not None else "group"
        raise Invalid("the task is in no team's queue", errors={field: ["the task is in no team's queue"]})
    if person is not None:
        if person not in _people(session, team):
            raise Invalid(
                f"{person!r} is not in the {team} team", errors={"user": [f"not a person of the {team} team"]}
            )
        task.assignee = task.claimed_by = person
        detail: dict[str, Any] = {"user": person}
    else:
        assert group is not None
        if group not in team_groups(team) or session.scalar(select(Group.id).where(Group.name == group)) is None:
            raise Invalid(f"{group!r} is not a queue of the {team} team", errors={"group": [f"not a {team} queue"]})
        kept = [candidate for candidate in task.candidates if candidate.group_name == group]
        task.candidates = kept or [TaskCandidate(group_name=group)]
        task.assignee = task.claimed_by = None
        detail = {"group": group}
    session.flush()
    ticket = session.get(Ticket, task.ticket_id)
    assert ticket is not None
    record(session, ticket, user.username, "task_reassigned", task=task.name, task_id=task.id, before=before, **detail)
    return task
