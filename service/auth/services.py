"""Bearer tokens: issuing them and finding the caller of one (who may do what: `service.auth.permissions`)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, contains_eager

from service.auth.models import ApiToken, Caller, User
from service.db import utcnow
from service.errors import NotFound, Unauthorized


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


def revoke_tokens(session: Session, *, user_id: int) -> int:
    """Delete every token and browser session of a user (in the caller's transaction); how many there were."""
    result = session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def authenticate(session: Session, *, authorization: str | None) -> Caller:
    """The user a `Bearer <token>` header belongs to: an active user's token that has not expired.

    The token, its user and the user's groups are read in one query on every request, with no cache: a deactivated
    user, a revoked token or a changed role counts at the very next request, in every process.
    """
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send the header Authorization: Bearer <token>")
    digest = _digest(authorization[7:].strip())
    query = (
        select(ApiToken)
        .join(ApiToken.user)
        .where(ApiToken.digest == digest, User.active.is_(True))
        .where(or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > utcnow()))
        .options(contains_eager(ApiToken.user).joinedload(User.groups))
    )
    token = session.execute(query).unique().scalar_one_or_none()
    if token is None:
        raise Unauthorized("the bearer token is not valid")
    return Caller.of(token.user)
