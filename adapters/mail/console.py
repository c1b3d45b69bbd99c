"""A mailer for development that prints messages instead of sending them."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from adapters.mail.base import OutgoingMail


class ConsoleMailer:
    """Writes each message as readable plain text (no MIME encoding) to a text stream."""

    def __init__(self, stream: TextIO | None = None) -> None:
        """Write to stream, or to whatever ``sys.stdout`` is at sending time when None."""
        self.stream = stream
        self._lock = threading.Lock()

    def send(self, mail: OutgoingMail) -> None:
        """Print mail as a block of headers, a blank line and the body."""
        lines = [
            f"----- mail <{mail.message_id}> -----",
            f"Message-ID: <{mail.message_id}>",
            f"To: {', '.join(mail.to)}",
            f"Subject: {mail.subject}",
            *(f"{name}: {value}" for name, value in mail.headers.items()),
            "",
            mail.body.rstrip("\n"),
            f"----- end of mail <{mail.message_id}> -----",
            "",
        ]
        stream = self.stream if self.stream is not None else sys.stdout
        with self._lock:  # worker threads share one stream; keep each message in one piece
            stream.write("\n".join(lines))
            stream.flush()
