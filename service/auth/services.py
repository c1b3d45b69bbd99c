"""Bearer tokens: issuing them and finding the caller of one (who may do what: `service.auth.permissions`)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import ApiToken, Caller, User
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


def authenticate(session: Session, *, authorization: str | None, cache: TokenCache | None = None) -> Caller:
    """The user a `Bearer <token>` header belongs to."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send the header Authorization: Bearer <token>")
    digest = _digest(authorization[7:].strip())
    user = cache.get(digest) if cache else None
    if user is not None:
        return user
    token = session.scalar(select(ApiToken).where(ApiToken.digest == digest))
    if token is None:
        raise Unauthorized("the bearer token is not valid")
    caller = Caller.of(token.user)
    if cache:
        cache.put(digest, caller)
    return caller
