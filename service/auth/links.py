"""Single-use links by mail: a password reset anyone may ask for, an invitation an administrator sends to an
account without a password. The worker makes each link's secret as it mails it; only the digest is stored."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from adapters.mail import OutgoingMail
from service.auth import throttle
from service.auth.models import Caller, SigninLink, User
from service.auth.passwords import check_policy, hash_password
from service.auth.permissions import Permission, authorize
from service.auth.services import digest, revoke_tokens
from service.config import Config
from service.context import Context
from service.db import is_postgres, transaction, utcnow
from service.errors import Conflict, Invalid, NotFound

log = logging.getLogger("orchestrator.auth")
RESET, INVITATION = "reset", "invitation"
#: A person asking again within this many seconds gets no second mail (the first is on its way).
RESEND_AFTER_SECONDS = 60
INVALID_LINK = "the link is not valid: it was used already, has expired or was replaced by a newer one"


@dataclass(frozen=True)
class Invited:
    """An invitation on its way."""

    username: str
    expires_at: datetime


def request_reset(session: Session, *, config: Config, login: str) -> None:
    """Queue a reset link for the active user with that username or e-mail; nothing happens for anyone else, and
    the caller is told the same either way."""
    login = login.strip()
    user = session.scalar(
        select(User).where(or_(User.username == login, User.email == login), User.active.is_(True), User.email != "")
    )
    if user is None:
        return
    recent = utcnow() - timedelta(seconds=RESEND_AFTER_SECONDS)
    asked = select(SigninLink.id).where(SigninLink.user_id == user.id, SigninLink.created_at > recent)
    if session.scalar(asked.limit(1)) is not None:
        return
    session.add(
        SigninLink(user_id=user.id, purpose=RESET, expires_at=utcnow() + timedelta(hours=config.reset_link_hours))
    )


def invite(session: Session, *, user: Caller, config: Config, username: str) -> Invited:
    """Queue an invitation link for an existing active account that has no password yet (a client's user)."""
    authorize(user, Permission.MANAGE_PEOPLE)
    invitee = session.scalar(select(User).where(User.username == username))
    if invitee is None:
        raise NotFound(f"no user {username!r}")
    if invitee.password_hash is not None:
        raise Conflict(f"{username!r} has a password already: a password reset is what they need")
    if not invitee.active:
        raise Conflict(f"{username!r} is deactivated")
    if not invitee.email:
        raise Invalid(f"{username!r} has no e-mail address", errors={"username": ["has no e-mail address"]})
    expires_at = utcnow() + timedelta(days=config.invitation_link_days)
    session.add(SigninLink(user_id=invitee.id, purpose=INVITATION, expires_at=expires_at))
    return Invited(username, expires_at)


def confirm(session: Session, *, token: str, password: str) -> User:
    """Set the password a link was mailed for; the link then stops working, and so do every session and token the
    person had (and their other links)."""
    now = utcnow()
    link = session.scalar(select(SigninLink).where(SigninLink.digest == digest(token)))
    if link is None or link.used_at is not None or link.expires_at <= now or not link.user.active:
        raise Invalid(INVALID_LINK, errors={"token": [INVALID_LINK]})
    user = link.user
    check_policy(user.username, password)
    # Of two requests with the same link only one marks it used (PostgreSQL re-reads the row the other changed).
    used = session.execute(
        update(SigninLink).where(SigninLink.id == link.id, SigninLink.used_at.is_(None)).values(used_at=now)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise Invalid(INVALID_LINK, errors={"token": [INVALID_LINK]})
    session.execute(
        update(SigninLink).where(SigninLink.user_id == user.id, SigninLink.used_at.is_(None)).values(used_at=now)
    )
    user.password_hash = hash_password(password)
    revoke_tokens(session, user_id=user.id)
    throttle.clear_user(session, username=user.username)
    return user


def link_url(config: Config, token: str) -> str:
    """The address a mailed link opens."""
    return f"{config.public_base_url.rstrip('/')}/password?token={token}"


_TEXTS = {
    ("ru", RESET): (
        "Сброс пароля",
        "Чтобы задать новый пароль для входа {username}, откройте ссылку:\n{url}\n\n"
        "Ссылка действует до {expires} (UTC) и только один раз.\n"
        "Если вы не просили сбросить пароль, ничего не делайте.\n",
    ),
    ("en", RESET): (
        "Password reset",
        "To set a new password for the sign-in {username}, open this link:\n{url}\n\n"
        "The link works once, until {expires} (UTC).\n"
        "If you did not ask for it, do nothing.\n",
    ),
    ("ru", INVITATION): (
        "Приглашение в сервис-деск",
        "Для вас создан вход {username}. Чтобы задать пароль, откройте ссылку:\n{url}\n\n"
        "Ссылка действует до {expires} (UTC) и только один раз.\n",
    ),
    ("en", INVITATION): (
        "Invitation to the service desk",
        "A sign-in {username} was made for you. To set its password, open this link:\n{url}\n\n"
        "The link works once, until {expires} (UTC).\n",
    ),
}


def link_mail(config: Config, link: SigninLink, token: str, message_id: str) -> OutgoingMail:
    """The mail carrying a link, in the person's language (Russian unless it is English)."""
    language = "en" if link.user.language == "en" else "ru"
    subject, body = _TEXTS[(language, link.purpose)]
    text = body.format(
        username=link.user.username, url=link_url(config, token), expires=link.expires_at.strftime("%Y-%m-%d %H:%M")
    )
    return OutgoingMail(to=(link.user.email,), subject=subject, body=text, message_id=message_id)


def send_next_link(ctx: Context) -> bool:
    """Mail one due link (its secret is made now, its digest stored); False when none is due.

    Runs in the worker, like every side effect: a mailer failure is retried with backoff up to `job_max_attempts`,
    then left (the person can ask again).
    """
    with transaction(ctx.sessions) as session:
        now = utcnow()
        query = (
            select(SigninLink)
            .where(
                SigninLink.mailed_at.is_(None),
                SigninLink.run_after <= now,
                SigninLink.expires_at > now,
                SigninLink.used_at.is_(None),
                SigninLink.attempts < ctx.config.job_max_attempts,
            )
            .order_by(SigninLink.run_after, SigninLink.id)
            .limit(1)
        )
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True, of=SigninLink)
        link = session.scalar(query)
        if link is None:
            return False
        link_id = link.id
        try:
            assert ctx.mailer is not None
            token = secrets.token_urlsafe(32)
            domain = ctx.config.mail_sender.partition("@")[2] or "orchestrator"
            ctx.mailer.send(link_mail(ctx.config, link, token, f"signin-{link.id}.{link.attempts}@{domain}"))
        except Exception as error:  # noqa: BLE001 - a mailer failure is retried later
            message = f"{type(error).__name__}: {error}"
            log.warning("sign-in link %s was not mailed: %s", link_id, message)
            link.attempts += 1
            link.last_error = message
            link.run_after = now + timedelta(seconds=ctx.config.job_backoff_seconds * 2 ** (link.attempts - 1))
            return True
        link.digest = digest(token)
        link.mailed_at = now
        link.attempts += 1
    return True
