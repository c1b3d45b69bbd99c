"""The mail capability: what a message is, the sender protocol and its error."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from types import MappingProxyType
from typing import Protocol, runtime_checkable

# RFC 5322 dot-atom-text, used for both sides of a msg-id ("id-left@id-right").
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_MESSAGE_ID = re.compile(rf"{_DOT_ATOM}(?:@{_DOT_ATOM})?")
_FIELD_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except ':' (RFC 5322 ftext)
# Control characters (CR and LF among them) and the whitespace around them, folded into one space in free-text headers.
_CONTROLS = re.compile(r"\s*[\x00-\x1f\x7f-\x9f\u2028\u2029]+\s*")

# Headers the mailers write themselves; letting callers set them would produce duplicates.
RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


class MailError(Exception):
    """A message could not be handed over; ``transient`` says whether a retry may help."""

    def __init__(self, message: str, *, message_id: str, transient: bool) -> None:
        super().__init__(message)
        self.message_id = message_id
        self.transient = transient


@dataclass(frozen=True)
class OutgoingMail:
    """One plain-text message; ``message_id`` stays the same when the message is re-sent."""

    to: tuple[str, ...]
    subject: str
    body: str
    message_id: str
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.to, str):
            raise TypeError("to must be a tuple of addresses, not a single str")
        to = tuple(self.to)
        if not to:
            raise ValueError("a mail needs at least one recipient")
        for address in to:
            _check_address(address)
        subject = header_text(self.subject, "subject")
        if not isinstance(self.body, str):
            raise TypeError("body must be a str")
        message_id = self.message_id
        if message_id.startswith("<") and message_id.endswith(">"):
            message_id = message_id[1:-1]
        if not _MESSAGE_ID.fullmatch(message_id):
            raise ValueError(f"message_id {self.message_id!r} is not of the form 'left' or 'left@right'")
        headers = dict(self.headers)
        for name, value in headers.items():
            if not _FIELD_NAME.fullmatch(name):
                raise ValueError(f"header name {name!r} is not valid")
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"header {name!r} is set by the mailer, not by the caller")
            headers[name] = header_text(value, name)
        # frozen: assign the normalised values through object.__setattr__.
        object.__setattr__(self, "to", to)
        object.__setattr__(self, "subject", subject)
        object.__setattr__(self, "message_id", message_id)
        object.__setattr__(self, "headers", MappingProxyType(headers))

    @property
    def recipients(self) -> list[str]:
        """Return the bare addresses of ``to`` (display names dropped), for the SMTP envelope."""
        return [address for _, address in getaddresses(list(self.to))]


@runtime_checkable
class Mailer(Protocol):
    """Hands outgoing mail over for delivery."""

    def send(self, mail: OutgoingMail) -> None:
        """Send one message or raise MailError."""
        ...


def _check_address(address: str) -> None:
    _check_header_value("recipient", address)
    parsed = getaddresses([address])
    if len(parsed) != 1 or "@" not in parsed[0][1]:
        raise ValueError(f"recipient {address!r} is not one e-mail address")


def header_text(value: str, name: str = "header") -> str:
    """A free-text header value (a subject quoting a ticket's summary) on one line: every run of control characters
    (CR, LF, tab, NUL...) becomes one space, so no text can end the header and start another, nor make the mail
    unbuildable."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str")
    return _CONTROLS.sub(" ", value).strip()


def _check_header_value(name: str, value: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str")
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} must not contain line breaks")
