"""Sending mail to an SMTP relay with the standard library."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from adapters.mail.base import MailError, OutgoingMail
from adapters.mail.message import MAIL_POLICY, build_message, sender_address

log = logging.getLogger(__name__)


class SmtpMailer:
    """Sends each message over its own SMTP connection (optionally STARTTLS and login)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10,
    ) -> None:
        """Relay through host:port as sender (``addr`` or ``Name <addr>``)."""
        if not host:
            raise ValueError("host must not be empty")
        if not 0 < port < 65536:
            raise ValueError(f"port {port} is out of range")
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.envelope_from = sender_address(sender)
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SmtpMailer(host={self.host!r}, port={self.port}, sender={self.sender!r})"

    def send(self, mail: OutgoingMail) -> None:
        """Send mail; raise MailError (cause attached) if the relay cannot take it."""
        message = build_message(mail, sender=self.sender)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username is not None and self.password is not None:
                    smtp.login(self.username, self.password)
                refused = self._transmit(smtp, message, mail.recipients)
        except (smtplib.SMTPException, OSError) as exc:
            where = f"{self.host}:{self.port}"
            raise MailError(
                f"cannot send mail <{mail.message_id}> via {where}: {type(exc).__name__}: {exc}",
                message_id=mail.message_id,
                transient=_is_transient(exc),
            ) from exc
        if refused:
            # The others have it already; failing now would make a retry send it to them again.
            log.warning("mail <%s> refused for %s", mail.message_id, sorted(refused))

    def _transmit(
        self, smtp: smtplib.SMTP, message: EmailMessage, recipients: list[str]
    ) -> dict[str, tuple[int, bytes]]:
        # Not smtp.send_message(): it flattens without the message's policy and so turns a body line
        # "From ..." into ">From ...". as_bytes() keeps the policy (CRLF, 7-bit, no mangling).
        policy = MAIL_POLICY
        options: tuple[str, ...] = ()
        if not all(address.isascii() for address in [self.envelope_from, *recipients]):
            smtp.ehlo_or_helo_if_needed()
            if not smtp.has_extn("smtputf8"):
                raise smtplib.SMTPNotSupportedError("the server does not accept non-ASCII addresses (SMTPUTF8)")
            policy, options = policy.clone(utf8=True), ("SMTPUTF8", "BODY=8BITMIME")
        return smtp.sendmail(self.envelope_from, recipients, message.as_bytes(policy=policy), options)


def _is_transient(exc: BaseException) -> bool:
    """Tell whether the failure may go away by itself (4xx replies, network trouble)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError):
        return False  # the relay or its certificate does not fit the settings: a person must act
    return True
