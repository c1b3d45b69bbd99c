"""Turning an OutgoingMail into a standard e-mail message."""

from __future__ import annotations

from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from adapters.mail.base import OutgoingMail, header_text

# 7-bit transfer encoding (quoted-printable/base64 for non-ASCII text) goes through any relay,
# including those that do not announce 8BITMIME.
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit")


def sender_address(sender: str) -> str:
    """Return the bare address of a sender such as ``Service Desk <desk@example.com>``."""
    address = parseaddr(sender)[1]
    if "@" not in address or "\r" in sender or "\n" in sender:
        raise ValueError(f"sender {sender!r} is not an e-mail address")
    return address


def format_message_id(message_id: str, *, sender: str) -> str:
    """Return the Message-ID header value; an id without a domain gets the sender's."""
    if "@" not in message_id:
        message_id = f"{message_id}@{sender_address(sender).rpartition('@')[2]}"
    return f"<{message_id}>"


def build_message(mail: OutgoingMail, *, sender: str, now: datetime | None = None) -> EmailMessage:
    """Return the MIME message for mail as sent by sender."""
    message = EmailMessage(policy=MAIL_POLICY)
    # The policy's header factory parses and refolds every value; OutgoingMail has already put each on one line.
    message["From"] = sender
    message["To"] = ", ".join(mail.to)
    message["Subject"] = header_text(mail.subject, "subject")
    message["Date"] = format_datetime(now or datetime.now(timezone.utc))
    message["Message-ID"] = format_message_id(mail.message_id, sender=sender)
    for name, value in mail.headers.items():
        message[name] = header_text(value, name)
    message.set_content(mail.body)
    return message
