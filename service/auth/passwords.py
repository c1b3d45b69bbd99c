"""Passwords: argon2id hashes (the library's defaults), checks that take as long for an unknown user, the policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service.errors import Invalid

_HASHER = PasswordHasher()
#: Verified when there is no user (or no password): a wrong username then costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("no user has this password")
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    """The argon2id hash of a password, to store."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether the password matches the stored hash; with no hash, verifies a dummy one and says no."""
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made with weaker parameters than today's, so it is replaced at the next sign-in."""
    return _HASHER.check_needs_rehash(stored)


def policy_problem(username: str, password: str) -> str | None:
    """Why a password is refused, or None: at least MIN_LENGTH characters, not the username."""
    if len(password) < MIN_LENGTH:
        return f"a password has at least {MIN_LENGTH} characters"
    if password.strip().lower() == username.strip().lower():
        return "the password must not be the username"
    return None


def check_policy(username: str, password: str) -> None:
    """Refuse (422) a password the policy does not allow."""
    problem = policy_problem(username, password)
    if problem:
        raise Invalid(problem, errors={"password": [problem]})
