"""Users, groups and bearer tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, utcnow

membership = Table(
    "membership",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("user_group.id", ondelete="CASCADE"), primary_key=True),
)


def space_separated(text: str) -> frozenset[str]:
    """The words of a column that stores a set space-separated (roles, worker topics)."""
    return frozenset(text.split())


class Group(Base):
    """A queue owner: a team at a support level (`storage-L1`) or a function (`duty`, `rmc`)."""

    __tablename__ = "user_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")


class User(Base):
    """A person or a system that calls the API."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    #: Space-separated roles (`service.auth.permissions.Role`); what each may do is `permissions.ROLES`.
    roles: Mapped[str] = mapped_column(String(400), default="")
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), default=None)
    phone: Mapped[str] = mapped_column(String(40), default="")
    #: ru or en: the language of the pages and mails the person gets.
    language: Mapped[str] = mapped_column(String(2), default="ru")
    #: An IANA zone: times are shown to the person in it.
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    #: For an L3 engineer of an outside partner: the partner's company (they see only the tickets of their tasks).
    partner: Mapped[str | None] = mapped_column(String(200), default=None)
    #: For a `worker` account (an outside system): the space-separated topics it may fetch and complete, `*` for
    #: every topic left to outside workers (`service.jobs.external`).
    worker_topics: Mapped[str] = mapped_column(String(1000), default="")
    #: A deactivated person cannot sign in; their sessions and tokens stop working at once, their history stays.
    active: Mapped[bool] = mapped_column(default=True)
    #: argon2 hash; None for an account that has no password (a service account, an invitation not yet taken).
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    version: Mapped[int] = mapped_column(default=1)
    groups: Mapped[list[Group]] = relationship(secondary=membership, lazy="selectin")

    __mapper_args__: dict[str, Any] = {"version_id_col": version}

    @property
    def role_set(self) -> frozenset[str]:
        """The user's roles as a set."""
        return space_separated(self.roles)

    @property
    def group_names(self) -> frozenset[str]:
        """Names of the groups the user belongs to."""
        return frozenset(group.name for group in self.groups)


@dataclass(frozen=True)
class Caller:
    """Who makes a request: an immutable snapshot of a user, safe to keep across sessions and threads."""

    id: int
    username: str
    role_set: frozenset[str]
    group_names: frozenset[str]
    client_id: int | None
    #: The partner company of an outside L3 engineer: they see only the tickets of tasks given to their groups.
    partner: str | None = None
    #: The topics an outside worker's account serves (`*`: all of those left to outside workers).
    worker_topics: frozenset[str] = frozenset()

    @classmethod
    def of(cls, user: User | Any, group_names: frozenset[str] | None = None) -> Caller:
        """The snapshot of a user as loaded now: a User, or a row of its columns (`id`, `username`, `roles`,
        `client_id`, `partner`, `worker_topics`) with the names of its groups."""
        groups = user.group_names if group_names is None else group_names
        roles, topics = space_separated(user.roles), space_separated(user.worker_topics)
        return cls(user.id, user.username, roles, groups, user.client_id, user.partner, topics)


class ApiToken(Base):
    """A bearer token or a browser session, stored as its SHA-256 digest only."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: personal (named by its owner), service (given by an administrator), session (a browser's sign-in), cli.
    kind: Mapped[str] = mapped_column(String(20), default="cli")
    name: Mapped[str] = mapped_column(String(120), default="")
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(Base):
    """One failed sign-in, counted against the username and the client address it came from.

    Kept in the database so every web process counts the same failures; rows older than the window are deleted as
    new failures come.
    """

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_scope_key_at", "scope", "key", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: "user" (the username as typed, lower-cased) or "address" (the client's IP address).
    scope: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SigninLink(Base):
    """A single-use link mailed to a person: a password reset or an invitation to set a first password.

    The secret is made by the worker as it sends the mail, and only its digest is stored.
    """

    __tablename__ = "signin_link"
    __table_args__ = (Index("ix_signin_link_unsent", "mailed_at", "run_after"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    #: reset or invitation.
    purpose: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    mailed_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    user: Mapped[User] = relationship(lazy="joined")
