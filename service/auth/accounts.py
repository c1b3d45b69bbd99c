"""Accounts as an operator keeps them from the command line: create one, set its password, deactivate it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Group, User
from service.auth.passwords import check_policy, hash_password
from service.auth.permissions import Role
from service.auth.services import revoke_tokens
from service.clients.models import Client
from service.directory import records
from service.errors import Conflict, Invalid, NotFound

KIND = "user"
FIELDS = ("username", "roles", "client_id", "active", "worker_topics")


def find_user(session: Session, username: str) -> User:
    """The user with that username (404 when there is none)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def create_user(
    session: Session,
    *,
    actor: str,
    username: str,
    roles: Sequence[str] = (),
    groups: Sequence[str] = (),
    client: str | None = None,
    email: str = "",
    password: str | None = None,
    topics: Sequence[str] = (),
) -> User:
    """A new account: roles and groups that exist, a client's code for a client's user, a password (or none: a
    service account, or a person to invite); for a `worker` account, the topics it serves (`*`: every external one)."""
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"a user {username!r} exists already")
    known = {role.value for role in Role}
    unknown = sorted(set(roles) - known)
    if unknown:
        raise Invalid(f"no role {', '.join(unknown)} (roles: {', '.join(sorted(known))})")
    found = list(session.scalars(select(Group).where(Group.name.in_(groups))))
    missing = sorted(set(groups) - {group.name for group in found})
    if missing:
        raise Invalid(f"no group {', '.join(missing)}")
    client_id = None
    if client is not None:
        client_id = session.scalar(select(Client.id).where(Client.code == client))
        if client_id is None:
            raise NotFound(f"no client {client!r}")
    if topics and Role.WORKER.value not in roles:
        raise Invalid("only a worker account serves topics: give it the role worker")
    if password is not None:
        check_policy(username, password)
    user = User(
        username=username,
        display_name=username,
        email=email,
        roles=" ".join(roles),
        client_id=client_id,
        groups=found,
        worker_topics=" ".join(dict.fromkeys(topics)),
        password_hash=hash_password(password) if password is not None else None,
    )
    records.create(session, user, kind=KIND, key=username, actor=actor, fields=FIELDS, source="cli")
    return user


def set_password(session: Session, *, username: str, password: str) -> User:
    """Give an account a new password (the policy applies); its sessions and tokens end."""
    user = find_user(session, username)
    check_policy(username, password)
    user.password_hash = hash_password(password)
    revoke_tokens(session, user_id=user.id)
    return user


def deactivate_user(session: Session, *, actor: str, username: str) -> int:
    """Deactivate an account: it cannot sign in, and every session and token it had ends now; returns how many."""
    user = find_user(session, username)
    if user.active:
        records.update(
            session, user, kind=KIND, key=username, actor=actor, if_match="*", changes={"active": False}, source="cli"
        )
    return revoke_tokens(session, user_id=user.id)
