"""A real SMTP server on loopback for tests, in-process or as its own process.

In-process::

    with SmtpTestServer() as server:
        SmtpMailer(server.host, server.port, "desk@example.com").send(mail)
        [received] = server.wait_for_count(1)

As a pytest fixture: ``smtp_server = pytest.fixture(serve_smtp, name="smtp_server")``.

As a process (end-to-end tests)::

    python -m tests.support.smtp --port 0 --mbox var/mail.jsonl

prints ``smtp test server listening on HOST:PORT`` once it accepts connections, appends one JSON
object per received message to the mbox file and exits 0 on SIGTERM or SIGINT.
``SmtpServerProcess`` starts and stops it from a test.
"""

from __future__ import annotations

import argparse
import errno
import json
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

READY_LINE = "smtp test server listening on {host}:{port}"
_REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server got it: envelope, parsed message, login used (if any), raw bytes."""

    envelope_from: str
    recipients: tuple[str, ...]
    message: EmailMessage
    login: str | None = None
    raw: bytes = b""

    @property
    def subject(self) -> str:
        """Return the decoded Subject header ('' if missing)."""
        return str(self.message.get("Subject", ""))

    @property
    def message_id(self) -> str:
        """Return the Message-ID header as sent, angle brackets included ('' if missing)."""
        return str(self.message.get("Message-ID", "")).strip()

    @property
    def body(self) -> str:
        """Return the decoded text/plain body with '\\n' line endings ('' if there is none)."""
        part = self.message.get_body(preferencelist=("plain",))
        if part is None:
            return ""
        return str(cast(EmailMessage, part).get_content()).replace("\r\n", "\n")

    def as_json(self) -> dict[str, Any]:
        """Return the fields written to the mbox file."""
        return {
            "envelope_from": self.envelope_from,
            "recipients": list(self.recipients),
            "login": self.login,
            "from": str(self.message.get("From", "")),
            "to": str(self.message.get("To", "")),
            "subject": self.subject,
            "message_id": self.message_id,
            "date": str(self.message.get("Date", "")),
            "headers": {name: str(value) for name, value in self.message.items()},
            "body": self.body,
        }


class RecordingHandler:
    """aiosmtpd handler that keeps received messages in a thread-safe list."""

    def __init__(
        self,
        *,
        reject: Mapping[str, str] | None = None,
        on_message: Callable[[ReceivedMessage], None] | None = None,
    ) -> None:
        """Refuse recipients in reject (address -> SMTP reply) and call on_message per message."""
        self._reject = {address.lower(): reply for address, reply in (reject or {}).items()}
        self._on_message = on_message
        self._messages: list[ReceivedMessage] = []
        self._changed = threading.Condition()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Accept the recipient unless it is listed in reject."""
        reply = self._reject.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        """Parse and store the message."""
        raw = envelope.original_content or b""
        received = ReceivedMessage(
            envelope_from=envelope.mail_from or "",
            recipients=tuple(envelope.rcpt_tos),
            message=BytesParser(policy=policy.default).parsebytes(raw),
            login=session.auth_data if isinstance(session.auth_data, str) else None,
            raw=raw,
        )
        if self._on_message is not None:
            self._on_message(received)
        with self._changed:
            self._messages.append(received)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Return a copy of the messages received so far."""
        with self._changed:
            return list(self._messages)

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._changed:
            self._messages.clear()

    def wait_for(
        self, predicate: Callable[[list[ReceivedMessage]], bool], timeout: float = 5.0
    ) -> list[ReceivedMessage]:
        """Block until predicate(messages) holds and return the messages; TimeoutError after timeout."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(list(self._messages)), timeout):
                got = len(self._messages)
                raise TimeoutError(f"condition not met within {timeout}s; got {got} message(s)")
            return list(self._messages)


class SmtpTestServer:
    """A started-on-demand aiosmtpd server on loopback (a free port when port is 0)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        reject: Mapping[str, str] | None = None,
        on_message: Callable[[ReceivedMessage], None] | None = None,
    ) -> None:
        """Configure the server; credentials (login -> password) enable AUTH without TLS."""
        self.host = host
        self.port = port
        self.handler = RecordingHandler(reject=reject, on_message=on_message)
        self._credentials = dict(credentials) if credentials is not None else None
        self._controller: Controller | None = None

    def start(self) -> SmtpTestServer:
        """Start listening; return self."""
        if self._controller is not None:
            raise RuntimeError("server already started")
        if self.port:
            # aiosmtpd only reports a failed bind after its whole ready timeout; fail fast instead.
            free_port(self.host, self.port)
        for attempt in range(5):
            port = self.port or free_port(self.host)
            controller = Controller(self.handler, hostname=self.host, port=port, **self._smtp_options())
            try:
                controller.start()
            except OSError as exc:
                controller.loop.close()
                # Another process took the free port between our probe and the bind: probe again.
                if self.port or exc.errno != errno.EADDRINUSE or attempt == 4:
                    raise
                continue
            self._controller, self.port = controller, port
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop listening (no-op when not started)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Return a copy of the messages received so far."""
        return self.handler.messages

    def clear(self) -> None:
        """Forget the messages received so far."""
        self.handler.clear()

    def wait_for(
        self, predicate: Callable[[list[ReceivedMessage]], bool], timeout: float = 5.0
    ) -> list[ReceivedMessage]:
        """Block until predicate(messages) holds and return the messages; TimeoutError after timeout."""
        return self.handler.wait_for(predicate, timeout)

    def wait_for_count(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until at least count messages arrived and return them."""
        return self.wait_for(lambda messages: len(messages) >= count, timeout)

    def _smtp_options(self) -> dict[str, Any]:
        if self._credentials is None:
            return {}
        credentials = self._credentials

        def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
            if isinstance(data, LoginPassword):
                login, password = data.login.decode(), data.password.decode()
                if credentials.get(login) == password:
                    return AuthResult(success=True, auth_data=login)
            return AuthResult(success=False, handled=False)

        return {"authenticator": authenticate, "auth_require_tls": False}


def serve_smtp(**options: Any) -> Iterator[SmtpTestServer]:
    """Yield a started SmtpTestServer and stop it afterwards (wrap with ``pytest.fixture``)."""
    with SmtpTestServer(**options) as server:
        yield server


def free_port(host: str = "127.0.0.1", port: int = 0) -> int:
    """Return a TCP port on host that nothing listens on right now (port itself, or any if 0)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio does, so TIME_WAIT is fine
        probe.bind((host, port))
        return int(probe.getsockname()[1])


def read_mbox(path: str | Path) -> list[dict[str, Any]]:
    """Return the messages in an mbox file written by the standalone server (complete lines only)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]


class SmtpServerProcess:
    """The standalone server run as a child process (``python -m tests.support.smtp``)."""

    def __init__(
        self, mbox: str | Path, *, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 10.0
    ) -> None:
        """Configure the process; it writes received messages to mbox."""
        self.mbox = Path(mbox)
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> SmtpServerProcess:
        """Start the process and wait until it accepts connections; return self."""
        command = [sys.executable, "-m", "tests.support.smtp", "--host", self.host, "--port", str(self.port)]
        command += ["--mbox", str(self.mbox)]
        self.process = subprocess.Popen(command, cwd=_REPO_ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], self.startup_timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith(READY_LINE.split("{")[0]):
            self.stop()
            raise RuntimeError(f"smtp test server did not start: {line!r}")
        self.port = int(line.strip().rpartition(":")[2])
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        """Send SIGTERM, wait for the exit and return the exit code (None if never started)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code

    def __enter__(self) -> SmtpServerProcess:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def messages(self) -> list[dict[str, Any]]:
        """Return the messages written to the mbox file so far."""
        return read_mbox(self.mbox)

    def wait_for_count(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Poll the mbox file until it holds at least count messages and return them."""
        deadline = time.monotonic() + timeout
        while len(messages := self.messages()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} message(s) in {self.mbox}, got {len(messages)}")
            time.sleep(0.05)
        return messages


class _JsonLinesWriter:
    """Appends each message to a file as one JSON line, safely from the server's thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    def __call__(self, received: ReceivedMessage) -> None:
        line = json.dumps(received.as_json(), ensure_ascii=False) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as mbox:
            mbox.write(line)  # one write per line, so readers never see half a message


def main(argv: list[str] | None = None) -> int:
    """Run the server until SIGTERM or SIGINT; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.smtp", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument("--mbox", type=Path, required=True, help="file to append messages to (JSON lines)")
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server = SmtpTestServer(host=args.host, port=args.port, on_message=_JsonLinesWriter(args.mbox))
    try:
        server.start()
    except OSError as exc:
        print(f"smtp test server cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    try:
        print(READY_LINE.format(host=server.host, port=server.port), flush=True)
        while not stopping.wait(0.5):  # a timed wait keeps the main thread responsive to signals
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
