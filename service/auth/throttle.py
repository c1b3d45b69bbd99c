"""Failed sign-ins slow down, then lock, a username and a client address: counted in the database, so every web
process sees the same count.

A username is counted as typed (lower-cased) whether or not such a user exists, so a throttled or locked unknown
name is answered exactly like a known one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.auth.models import LoginFailure
from service.config import Config
from service.db import utcnow
from service.errors import TooManyRequests

USER, ADDRESS = "user", "address"


@dataclass(frozen=True)
class Count:
    """The failures of one username or address within the window, and the last one's time."""

    failures: int
    last: datetime | None


def user_key(username: str) -> str:
    """The key a username is counted under."""
    return username.strip().lower()[:254]


def count(session: Session, *, scope: str, key: str, config: Config, now: datetime) -> Count:
    """The failures of `key` within the sliding window that ends now."""
    since = now - timedelta(seconds=config.login_window_seconds)
    failures, last = session.execute(
        select(func.count(LoginFailure.id), func.max(LoginFailure.at)).where(
            LoginFailure.scope == scope, LoginFailure.key == key, LoginFailure.at > since
        )
    ).one()
    return Count(int(failures), last)


def wait_seconds(found: Count, *, config: Config, now: datetime) -> float:
    """How long `found` must still wait before its next attempt is checked (0: it may try now)."""
    if found.last is None or found.failures < config.login_throttle_after:
        return 0.0
    if found.failures >= config.login_lock_after:
        delay = config.login_lock_seconds
    else:
        doublings = found.failures - config.login_throttle_after
        delay = min(config.login_delay_seconds * 2**doublings, config.login_max_delay_seconds)
    return max(0.0, (found.last + timedelta(seconds=delay) - now).total_seconds())


def check(session: Session, *, username: str, address: str, config: Config) -> None:
    """Refuse (429 with Retry-After) an attempt while its username or its address has to wait or is locked."""
    now = utcnow()
    for scope, key in ((USER, user_key(username)), (ADDRESS, address)):
        found = count(session, scope=scope, key=key, config=config, now=now)
        wait = wait_seconds(found, config=config, now=now)
        if wait <= 0:
            continue
        seconds = math.ceil(wait)
        if found.failures >= config.login_lock_after:
            what = "this username" if scope == USER else "sign-ins from this address"
            raise TooManyRequests(
                f"{what} is locked for {seconds} seconds after too many failed sign-ins", retry_after=seconds
            )
        raise TooManyRequests(f"too many failed sign-ins: try again in {seconds} seconds", retry_after=seconds)


def record_failure(session: Session, *, username: str, address: str, config: Config) -> None:
    """Count one failed sign-in against the username and the address; forget failures older than the window."""
    now = utcnow()
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - timedelta(seconds=config.login_window_seconds)))
    session.add_all(
        [LoginFailure(scope=USER, key=user_key(username), at=now), LoginFailure(scope=ADDRESS, key=address, at=now)]
    )


def clear_user(session: Session, *, username: str) -> None:
    """Forget a username's failures (after it signed in, or set a new password); its address's stay counted."""
    session.execute(delete(LoginFailure).where(LoginFailure.scope == USER, LoginFailure.key == user_key(username)))
