"""Product teams: listing, reading, creating (with their level groups), changing, deactivating and deleting them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.auth.models import Caller, Group, membership
from service.auth.permissions import Permission, authorize
from service.directory import records
from service.errors import Conflict, NotFound
from service.paging import Page, keyset_page
from service.searching import contains
from service.tasks.models import OPEN, TaskCandidate, UserTask
from service.teams.models import LEVELS, Team
from service.tickets.models import Ticket

KIND = "team"
#: What the history records of a team.
FIELDS = ("code", "name", "classes", "partners_in_l3", "active")


def list_teams(
    session: Session, *, user: Caller, q: str | None, active: bool | None, cursor: str | None, page_size: int
) -> Page[Team]:
    """A page of teams in the order of their codes, found by code, name or equipment class."""
    authorize(user, Permission.READ_DIRECTORY)
    query = select(Team)
    if q:
        query = query.where(or_(contains(Team.code, q), contains(Team.name, q), contains(Team.classes, q)))
    if active is not None:
        query = query.where(Team.active.is_(active))
    return keyset_page(session, query, key=Team.code, cursor=cursor, page_size=page_size)


def find_team(session: Session, code: str) -> Team:
    """The team with that code (404 when there is none)."""
    team = session.scalar(select(Team).where(Team.code == code))
    if team is None:
        raise NotFound(f"no team {code!r}")
    return team


def get_team(session: Session, *, user: Caller, code: str) -> Team:
    """One team."""
    authorize(user, Permission.READ_DIRECTORY)
    return find_team(session, code)


def _stored(data: Mapping[str, Any]) -> dict[str, Any]:
    """The API's fields as the model keeps them (the classes space-separated)."""
    stored = dict(data)
    if "classes" in stored:
        stored["classes"] = " ".join(dict.fromkeys(stored["classes"]))
    return stored


def create_team(session: Session, *, user: Caller, data: Mapping[str, Any]) -> Team:
    """A new team and its groups `<code>-L1`..`-L3` (409 when the code is taken)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    if session.scalar(select(Team.id).where(Team.code == data["code"])) is not None:
        raise Conflict(f"a team {data['code']!r} exists already")
    team = Team(**_stored(data))
    existing = {group.name: group for group in session.scalars(select(Group).where(Group.name.in_(team.group_names())))}
    for level, name in zip(LEVELS, team.group_names(), strict=True):
        title = f"{team.name}, level {level}"
        if name in existing:
            existing[name].title = existing[name].title or title
        else:
            session.add(Group(name=name, title=title))
    records.create(session, team, kind=KIND, key=team.code, actor=user.username, fields=FIELDS)
    return team


def open_tasks(session: Session, team: Team) -> int:
    """How many open user tasks wait in the team's queues."""
    query = (
        select(func.count(func.distinct(UserTask.id)))
        .join(TaskCandidate, TaskCandidate.task_id == UserTask.id)
        .where(UserTask.state == OPEN, TaskCandidate.group_name.in_(team.group_names()))
    )
    return int(session.scalar(query) or 0)


def _refuse_while_busy(session: Session, team: Team, doing: str) -> None:
    count = open_tasks(session, team)
    if count:
        raise Conflict(
            f"the team {team.code} holds {count} open task{'s' if count != 1 else ''} in its queues; "
            f"{doing} it once they are done or moved",
            open_tasks=count,
        )


def update_team(session: Session, *, user: Caller, code: str, changes: Mapping[str, Any], if_match: str | None) -> Team:
    """Change a team from the version the caller read; `active: false` is refused while it holds open tasks."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    team = find_team(session, code)
    records.check_version(team, if_match)
    stored = _stored(changes)
    if stored.get("active") is False and team.active:
        _refuse_while_busy(session, team, "deactivate")
    if stored.get("name", team.name) != team.name:  # the queues' titles follow the name they were made from
        for level, name in zip(LEVELS, team.group_names(), strict=True):
            group = session.scalar(select(Group).where(Group.name == name))
            if group is not None and group.title == f"{team.name}, level {level}":
                group.title = f"{stored['name']}, level {level}"
    records.update(session, team, kind=KIND, key=code, actor=user.username, if_match=if_match, changes=stored)
    return team


def delete_team(session: Session, *, user: Caller, code: str, if_match: str | None) -> None:
    """Delete a team with no open tasks, no members and no tickets, with its groups (409 naming what refers to it)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    team = find_team(session, code)
    records.check_version(team, if_match)
    _refuse_while_busy(session, team, "delete")
    groups = list(session.scalars(select(Group).where(Group.name.in_(team.group_names()))))
    found = {
        "members": int(
            session.scalar(
                select(func.count())
                .select_from(membership)
                .where(membership.c.group_id.in_([group.id for group in groups]))
            )
            or 0
        ),
        "tickets": int(session.scalar(select(func.count()).select_from(Ticket).where(Ticket.team == code)) or 0),
    }
    found = {name: count for name, count in found.items() if count}
    if found:
        named = ", ".join(f"{count} {name}" for name, count in sorted(found.items()))
        raise Conflict(f"the team {code} is referred to by {named}; deactivate it instead", references=found)
    records.delete(session, team, kind=KIND, key=code, actor=user.username, if_match=if_match)
    for group in groups:
        session.delete(group)
    session.flush()


def team_history(session: Session, *, user: Caller, code: str, cursor: str | None, page_size: int) -> Page[Any]:
    """The changes of a team, oldest first (also after it was deleted)."""
    authorize(user, Permission.READ_DIRECTORY)
    return records.history(session, kind=KIND, key=code, cursor=cursor, page_size=page_size)


def active_team_codes(session: Session) -> frozenset[str] | None:
    """The codes of the active teams, or None while the directory has no team at all (a fresh install)."""
    rows = list(session.execute(select(Team.code, Team.active)).tuples())
    if not rows:
        return None
    return frozenset(code for code, active in rows if active)
