"""Bearer tokens: issuing them and finding the caller of one (who may do what: `service.auth.permissions`)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.auth.models import ApiToken, Caller, User
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


def end_tokens(session: Session, *, user_id: int, cache: TokenCache | None = None) -> int:
    """End every session and token of a user at once (deactivated, new password); returns how many."""
    ended = session.execute(delete(ApiToken).where(ApiToken.user_id == user_id)).rowcount  # type: ignore[attr-defined]
    if cache:
        cache.forget_user(user_id)
    return int(ended or 0)


class TokenCache:
    """Users by token digest for a few seconds, so that a busy client does not cost two queries a request.

    A change to a user's roles or groups reaches a process within `seconds`.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._users: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Caller | None:
        """The cached user of a token, if still fresh."""
        hit = self._users.get(digest)
        return hit[1] if hit and time.monotonic() - hit[0] < self.seconds else None

    def put(self, digest: str, user: Caller) -> None:
        """Remember a user for `seconds`."""
        with self._lock:
            if len(self._users) > 10_000:
                self._users.clear()
            self._users[digest] = (time.monotonic(), user)

    def forget(self, digest: str) -> None:
        """Drop one token (signed out, revoked): this process stops trusting it at once."""
        with self._lock:
            self._users.pop(digest, None)

    def forget_user(self, user_id: int) -> None:
        """Drop every token of a user (deactivated, new password)."""
        with self._lock:
            for key in [key for key, (_at, caller) in self._users.items() if caller.id == user_id]:
                del self._users[key]


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if that is what it holds."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    return authorization[7:].strip()


def authenticate(session: Session, *, authorization: str | None, cache: TokenCache | None = None) -> Caller:
    """The user a `Bearer <token>` header belongs to."""
    token = bearer(authorization)
    if token is None:
        raise Unauthorized("send the header Authorization: Bearer <token>, or sign in")
    return caller_of(session, token=token, cache=cache, what="the bearer token")


def caller_of(
    session: Session, *, token: str, cache: TokenCache | None = None, kinds: frozenset[str] | None = None, what: str
) -> Caller:
    """The user a token (bearer or session cookie) belongs to, while it is unexpired and its user active."""
    key = digest(token)
    user = cache.get(key) if cache else None
    if user is not None:
        return user
    row = session.scalar(select(ApiToken).where(ApiToken.digest == key))
    if row is None or (kinds is not None and row.kind not in kinds):
        raise Unauthorized(f"{what} is not valid")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise Unauthorized(f"{what} has expired")
    if not row.user.active:
        raise Unauthorized(f"{what} is not valid")
    caller = Caller.of(row.user)
    if cache:
        cache.put(key, caller)
    return caller
