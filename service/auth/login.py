"""Signing in and out: password checks behind the throttle, browser sessions with their CSRF value, and the personal
and service tokens people list and revoke (who may: `service.auth.permissions`)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.auth import throttle
from service.auth.models import ApiToken, Caller, User
from service.auth.passwords import hash_password, needs_rehash, verify_password
from service.auth.permissions import Permission, Role, authorize
from service.auth.services import caller_of, digest, new_token, revoke_tokens
from service.config import Config
from service.db import utcnow
from service.errors import Forbidden, Invalid, NotFound, Unauthorized
from service.paging import Page, keyset_page

SESSION_COOKIE = "orchestrator_session"
CSRF_COOKIE = "orchestrator_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION, PERSONAL, SERVICE = "session", "personal", "service"
#: One answer for every refused password, so that it does not tell which usernames exist.
WRONG = "the username or the password is wrong"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class SignedIn:
    """A sign-in: the user, the session's secret (for the cookie), its CSRF value, its expiry, a token if asked."""

    user: User
    session_token: str
    csrf_token: str
    expires_at: datetime
    token: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    """A new token: its row and the secret, shown this once."""

    row: ApiToken
    secret: str


def csrf_of(session_token: str) -> str:
    """The CSRF value of a session: derived from its secret, which only the HttpOnly cookie holds."""
    return hmac.new(session_token.encode(), b"csrf", hashlib.sha256).hexdigest()


def check_csrf(session_token: str, offered: str | None) -> None:
    """Refuse (403) a change made with a session cookie that does not carry the session's CSRF value."""
    if not offered or not hmac.compare_digest(offered, csrf_of(session_token)):
        raise Forbidden(f"a change made with the session cookie needs the header {CSRF_HEADER} the sign-in gave")


def session_caller(session: Session, *, token: str) -> Caller:
    """The user a session cookie belongs to."""
    return caller_of(session, token=token, kinds=frozenset({SESSION}), what="the session")


def login(
    session: Session,
    *,
    config: Config,
    username: str,
    password: str,
    address: str,
    token: bool = False,
    token_name: str = "",
) -> SignedIn:
    """Check a password behind the throttle and open a session (and a personal token when asked).

    Unknown user, wrong password and deactivated user get the same 401, after the same argon2 work. A failure is
    committed here: the edge rolls back every refused request, and the count must stay.
    """
    throttle.check(session, username=username, address=address, config=config)
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.active else None
    if not verify_password(stored, password) or user is None or stored is None:
        throttle.record_failure(session, username=username, address=address, config=config)
        session.commit()
        raise Unauthorized(WRONG)
    if needs_rehash(stored):
        user.password_hash = hash_password(password)
    throttle.clear_user(session, username=username)
    now = utcnow()
    expires_at = now + timedelta(hours=config.session_hours)
    secret, _row = new_token(session, user=user, kind=SESSION, name="browser", expires_at=expires_at)
    bearer = None
    if token:
        bearer, _ = new_token(
            session,
            user=user,
            kind=PERSONAL,
            name=token_name or "sign-in",
            expires_at=now + timedelta(days=config.token_days),
        )
    return SignedIn(user, secret, csrf_of(secret), expires_at, bearer)


def logout(session: Session, *, token: str) -> None:
    """End the session or token given (nothing to do when it is unknown)."""
    session.execute(delete(ApiToken).where(ApiToken.digest == digest(token)))


def logout_everywhere(session: Session, *, user: Caller) -> int:
    """End every session and token of the caller, this one among them (a lost phone, a shared computer); how many."""
    return revoke_tokens(session, user_id=user.id)


def list_tokens(session: Session, *, user: Caller, cursor: str | None, page_size: int) -> Page[ApiToken]:
    """The caller's own sessions and tokens, oldest first (never their secrets)."""
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    return keyset_page(session, query, key=ApiToken.id, cursor=cursor, page_size=page_size)


def is_service_account(user: User) -> bool:
    """A system that calls the API (the intake, an integration): the role intake, or an account with no password."""
    return Role.INTAKE.value in user.role_set or user.password_hash is None


def create_token(
    session: Session,
    *,
    user: Caller,
    config: Config,
    name: str,
    expires_at: datetime | None = None,
    expires_in_days: float | None = None,
    for_user: str | None = None,
) -> IssuedToken:
    """A personal token of the caller, or (an administrator naming `for_user`) a service token of a service account."""
    now = utcnow()
    if expires_at is None:
        expires_at = now + timedelta(days=expires_in_days if expires_in_days is not None else config.token_days)
    if expires_at <= now:
        raise Invalid("a token must expire in the future", errors={"expires_at": ["must be in the future"]})
    owner = session.get(User, user.id)
    kind = PERSONAL
    if for_user is not None:
        authorize(user, Permission.MANAGE_PEOPLE)
        owner = session.scalar(select(User).where(User.username == for_user))
        if owner is None:
            raise NotFound(f"no user {for_user!r}")
        if not is_service_account(owner) or not owner.active:
            problem = "not an active service account (the role intake, or no password)"
            raise Invalid(f"{for_user!r} is {problem}", errors={"user": [problem]})
        kind = SERVICE
    if owner is None:
        raise Unauthorized("the caller no longer exists")
    secret, row = new_token(session, user=owner, kind=kind, name=name, expires_at=expires_at)
    return IssuedToken(row, secret)


def revoke_token(session: Session, *, user: Caller, token_id: int) -> None:
    """End one of the caller's own sessions or tokens; another's is not found (404)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"no token {token_id}")
    session.delete(row)
