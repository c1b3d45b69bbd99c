"""Mail: the ``Mailer`` protocol, the message it sends, and its SMTP and console mailers."""

from adapters.mail.base import Mailer, MailError, OutgoingMail
from adapters.mail.console import ConsoleMailer
from adapters.mail.message import build_message, format_message_id
from adapters.mail.smtp import SmtpMailer

__all__ = [
    "ConsoleMailer",
    "MailError",
    "Mailer",
    "OutgoingMail",
    "SmtpMailer",
    "build_message",
    "format_message_id",
]
