"""The request id: a short safe token from `X-Request-ID`, else made; carried into jobs, mails and log lines."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
#: Letters, digits and `._:-`, at most 64 characters: safe in a log line, a mail header and a URL.
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def accept(offered: str | None) -> str:
    """The offered id when it is a short token of safe characters, else a fresh one (uuid4 hex)."""
    if offered is not None and _SAFE.fullmatch(offered.strip()):
        return offered.strip()
    return uuid.uuid4().hex


def current() -> str | None:
    """The id of the request (or of the job the worker runs) this code runs for; None outside either."""
    return _current.get()


def bind(request_id: str | None) -> object:
    """Make `request_id` current; returns a token for `unbind`."""
    return _current.set(request_id)


def unbind(token: object) -> None:
    """Put back the id that was current before `bind`."""
    _current.reset(token)  # type: ignore[arg-type]
