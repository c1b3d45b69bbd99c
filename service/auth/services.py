"""Bearer tokens and sessions: issuing them and finding the caller of one (who may do what:
`service.auth.permissions`).

A token, its user and the user's groups are read in one query on every request, with no cache: a deactivated user,
a revoked token or a changed role counts at the very next request, in every process.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.orm import Session

from service.auth.models import ApiToken, Caller, Group, User, membership
from service.db import utcnow
from service.errors import NotFound, Unauthorized


def digest(token: str) -> str:
    """The SHA-256 digest a token is stored as."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(
    session: Session, *, user: User, kind: str = "cli", name: str = "", expires_at: datetime | None = None
) -> tuple[str, ApiToken]:
    """A new token of the user: the secret (shown once) and its stored row, which holds only its digest."""
    secret = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, digest=digest(secret), kind=kind, name=name, expires_at=expires_at)
    session.add(row)
    session.flush()
    return secret, row


def issue_token(session: Session, *, username: str) -> str:
    """Create a new bearer token for the user and return it; only its digest is stored."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return new_token(session, user=user)[0]


def revoke_tokens(session: Session, *, user_id: int) -> int:
    """End every token and browser session of a user at once (deactivated, new password); how many there were."""
    result = session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if that is what it holds."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    return authorization[7:].strip()


def authenticate(session: Session, *, authorization: str | None) -> Caller:
    """The user a `Bearer <token>` header belongs to."""
    token = bearer(authorization)
    if token is None:
        raise Unauthorized("send the header Authorization: Bearer <token>, or sign in")
    return caller_of(session, token=token, what="the bearer token")


def _token_query(by_kind: bool) -> Select[Any]:
    """A token's expiry with its user's columns that make a Caller, one row per group of the user (one with no
    group name for a user in none), by digest (and kind): plain rows, no objects, as the Caller is a snapshot.
    Built once, as SQLAlchemy keeps a statement's cache key with the statement, and this one is read on every
    request."""
    query = (
        select(
            ApiToken.expires_at,
            User.id,
            User.username,
            User.roles,
            User.client_id,
            User.partner,
            User.worker_topics,
            User.active,
            Group.name.label("group_name"),
        )
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(membership, membership.c.user_id == User.id)
        .outerjoin(Group, Group.id == membership.c.group_id)
        .where(ApiToken.digest == bindparam("digest"))
    )
    return query.where(ApiToken.kind.in_(bindparam("kinds", expanding=True))) if by_kind else query


_TOKEN = {by_kind: _token_query(by_kind) for by_kind in (False, True)}


def caller_of(session: Session, *, token: str, kinds: frozenset[str] | None = None, what: str) -> Caller:
    """The user a token (bearer or session cookie) belongs to, while it is unexpired and its user active."""
    params: dict[str, Any] = {"digest": digest(token)}
    if kinds is not None:
        params["kinds"] = sorted(kinds)
    rows = session.execute(_TOKEN[kinds is not None], params).all()
    first = rows[0] if rows else None
    if first is None or not first.active:
        # A deactivated user's token (deleted at deactivation anyway) looks the same as an unknown one.
        raise Unauthorized(f"{what} is not valid")
    if first.expires_at is not None and first.expires_at <= utcnow():
        raise Unauthorized(f"{what} has expired: sign in again")
    groups = frozenset(row.group_name for row in rows if row.group_name is not None)
    return Caller.of(first, groups)
