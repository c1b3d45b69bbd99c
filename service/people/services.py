"""People: listing, reading, creating and changing user accounts; deactivating one ends its tokens at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from service.auth.models import Caller, Group, User
from service.auth.permissions import Permission, Role, authorize
from service.auth.services import revoke_tokens
from service.clients.models import Client
from service.directory import records
from service.errors import Conflict, Invalid, NotFound
from service.paging import Page, keyset_page
from service.searching import contains

KIND = "user"


@dataclass(frozen=True)
class UserFilter:
    """What a list of people is narrowed to."""

    q: str | None = None
    role: str | None = None
    group: str | None = None
    client: str | None = None
    active: bool | None = None


@dataclass(frozen=True)
class Person:
    """A user as the API shows it: names instead of ids (and never the password hash)."""

    record: User
    username: str
    name: str
    email: str
    phone: str
    roles: list[str]
    groups: list[str]
    client: str | None
    partner: str | None
    language: str
    time_zone: str
    active: bool

    def fields(self) -> dict[str, Any]:
        """The values the history keeps."""
        return {name: getattr(self, name) for name in FIELDS}


#: What the history records of a person; the password hash is never among them.
FIELDS = (
    "username",
    "name",
    "email",
    "phone",
    "roles",
    "groups",
    "client",
    "partner",
    "language",
    "time_zone",
    "active",
)


def _person(session: Session, user: User) -> Person:
    client = session.scalar(select(Client.code).where(Client.id == user.client_id)) if user.client_id else None
    return Person(
        record=user,
        username=user.username,
        name=user.display_name,
        email=user.email,
        phone=user.phone,
        roles=sorted(user.role_set),
        groups=sorted(user.group_names),
        client=client,
        partner=user.partner,
        language=user.language,
        time_zone=user.time_zone,
        active=user.active,
    )


def list_people(
    session: Session, *, user: Caller, where: UserFilter, cursor: str | None, page_size: int
) -> Page[Person]:
    """A page of people in the order of their usernames, found by username, name or e-mail."""
    authorize(user, Permission.READ_PEOPLE)
    query = select(User)
    if where.q:
        query = query.where(
            or_(contains(User.username, where.q), contains(User.display_name, where.q), contains(User.email, where.q))
        )
    if where.role:
        padded = literal(" ") + User.roles + literal(" ")
        query = query.where(padded.like(f"% {where.role.replace('_', chr(92) + '_')} %", escape="\\"))
    if where.group:
        query = query.where(User.groups.any(Group.name == where.group))
    if where.client:
        query = query.where(User.client_id.in_(select(Client.id).where(Client.code == where.client)))
    if where.active is not None:
        query = query.where(User.active.is_(where.active))
    page = keyset_page(session, query, key=User.username, cursor=cursor, page_size=page_size)
    return Page([_person(session, item) for item in page.items], page.next)


def find_user(session: Session, username: str) -> User:
    """The user with that username (404 when there is none)."""
    found = session.scalar(select(User).where(User.username == username))
    if found is None:
        raise NotFound(f"no user {username!r}")
    return found


def get_person(session: Session, *, user: Caller, username: str) -> Person:
    """One person."""
    authorize(user, Permission.READ_PEOPLE)
    return _person(session, find_user(session, username))


def _apply(session: Session, record: User, data: Mapping[str, Any]) -> None:
    """Set the API's fields on the record, refusing (422, per field) what does not fit together."""
    errors: dict[str, list[str]] = {}
    plain = {"name": "display_name", "email": "email", "phone": "phone", "partner": "partner"}
    plain.update(language="language", time_zone="time_zone", active="active")
    for field, column in plain.items():
        if field in data:
            setattr(record, column, data[field])
    if "roles" in data:
        record.roles = " ".join(sorted(set(data["roles"])))
    if "groups" in data:
        wanted = sorted(set(data["groups"]))
        groups = list(session.scalars(select(Group).where(Group.name.in_(wanted)).order_by(Group.name)))
        missing = sorted(set(wanted) - {group.name for group in groups})
        if missing:
            errors["groups"] = [f"no group {name!r}" for name in missing]
        record.groups = groups
    if "client" in data:
        record.client_id = None
        if data["client"] is not None:
            record.client_id = session.scalar(select(Client.id).where(Client.code == data["client"]))
            if record.client_id is None:
                errors["client"] = [f"no client {data['client']!r}"]
    is_client = Role.CLIENT.value in record.role_set
    if is_client and record.client_id is None and "client" not in errors:
        errors["client"] = ["a user with the role client needs the code of their client"]
    if not is_client and record.client_id is not None:
        errors["client"] = ["only a user with the role client belongs to a client"]
    if record.partner and Role.ENGINEER.value not in record.role_set:
        errors["partner"] = ["only an engineer works for a partner company"]
    if errors:
        raise Invalid("; ".join(f"{field}: {', '.join(messages)}" for field, messages in errors.items()), errors)


def create_person(session: Session, *, user: Caller, data: Mapping[str, Any], source: str = "") -> Person:
    """A new user account (409 when the username is taken); it signs in once it has a password or a token."""
    authorize(user, Permission.MANAGE_PEOPLE)
    if session.scalar(select(User.id).where(User.username == data["username"])) is not None:
        raise Conflict(f"a user {data['username']!r} exists already")
    record = User(username=data["username"], groups=[])
    _apply(session, record, data)
    session.add(record)
    session.flush()
    person = _person(session, record)
    records.record_change(
        session,
        kind=KIND,
        key=record.username,
        actor=user.username,
        action=records.Action.CREATED,
        before=None,
        after=person.fields(),
        source=source,
    )
    return person


def update_person(
    session: Session,
    *,
    user: Caller,
    username: str,
    changes: Mapping[str, Any],
    if_match: str | None,
    source: str = "",
) -> Person:
    """Change a person from the version the caller read; `active: false` deactivates them and, in the same
    transaction, deletes every token and browser session they hold."""
    authorize(user, Permission.MANAGE_PEOPLE)
    record = find_user(session, username)
    records.check_version(record, if_match)
    old = _person(session, record).fields()
    _apply(session, record, changes)
    session.flush()
    person = _person(session, record)
    new = person.fields()
    before = {name: value for name, value in old.items() if new[name] != value}
    after = {name: new[name] for name in before}
    if not after:
        return person
    if set(after) == {"groups"}:
        flag_modified(record, "display_name")  # memberships are another table: the user's version moves with them
    action = records.Action.UPDATED
    if set(after) == {"active"}:
        action = records.Action.REACTIVATED if after["active"] else records.Action.DEACTIVATED
    if after.get("active") is False:
        revoke_tokens(session, user_id=record.id)
    records.record_change(
        session,
        kind=KIND,
        key=username,
        actor=user.username,
        action=action,
        before=before,
        after=after,
        source=source,
    )
    session.flush()
    return person


def person_history(session: Session, *, user: Caller, username: str, cursor: str | None, page_size: int) -> Page[Any]:
    """The changes of a person, oldest first."""
    authorize(user, Permission.READ_PEOPLE)
    return records.history(session, kind=KIND, key=username, cursor=cursor, page_size=page_size)
