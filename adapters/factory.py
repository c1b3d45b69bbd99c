"""Choosing adapter implementations by configuration name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from adapters.files import FileStore, LocalFolderStore
from adapters.mail import ConsoleMailer, Mailer, SmtpMailer

_FILE_STORES: Mapping[str, Callable[..., FileStore]] = {"local": LocalFolderStore}
_MAILERS: Mapping[str, Callable[..., Mailer]] = {"console": ConsoleMailer, "smtp": SmtpMailer}

_T = TypeVar("_T")

FILE_STORE_KINDS: tuple[str, ...] = tuple(sorted(_FILE_STORES))
MAILER_KINDS: tuple[str, ...] = tuple(sorted(_MAILERS))


def build_file_store(kind: str, **settings: Any) -> FileStore:
    """Return the file store named kind (``local``), built from settings."""
    return _pick("file store", _FILE_STORES, kind)(**settings)


def build_mailer(kind: str, **settings: Any) -> Mailer:
    """Return the mailer named kind (``smtp`` or ``console``), built from settings."""
    return _pick("mailer", _MAILERS, kind)(**settings)


def _pick(what: str, choices: Mapping[str, Callable[..., _T]], kind: str) -> Callable[..., _T]:
    try:
        return choices[kind.strip().lower()]
    except KeyError:
        allowed = ", ".join(sorted(choices))
        raise ValueError(f"unknown {what} kind {kind!r}; allowed kinds: {allowed}") from None
