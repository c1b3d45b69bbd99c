"""Tokens and the checks of who may see and do what."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import ApiToken, User
from service.errors import Forbidden, NotFound, Unauthorized


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, *, username: str) -> str:
    """Create a new bearer token for the user and return it; only its digest is stored."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, digest=_digest(token)))
    return token


def authenticate(session: Session, *, authorization: str | None) -> User:
    """The user a `Bearer <token>` header belongs to."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send the header Authorization: Bearer <token>")
    digest = _digest(authorization[7:].strip())
    token = session.scalar(select(ApiToken).where(ApiToken.digest == digest))
    if token is None:
        raise Unauthorized("the bearer token is not valid")
    return token.user


def require_role(user: User, *roles: str) -> None:
    """Refuse unless the user has one of the roles (admin has them all)."""
    if "admin" in user.role_set or user.role_set & set(roles):
        return
    raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")


def may_work_on(user: User, candidate_groups: list[str], assignee: str | None) -> bool:
    """True when the task is in one of the user's queues (or the user sees everything)."""
    if user.sees_everything:
        return True
    if assignee is not None and assignee == user.username:
        return True
    return bool(user.group_names & set(candidate_groups))
