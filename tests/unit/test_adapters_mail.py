"""Contract tests for Mailer against every implementation, plus SmtpMailer and ConsoleMailer specifics.

SmtpMailer talks to a real aiosmtpd server on 127.0.0.1; nothing in smtplib is mocked.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import smtplib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.utils import getaddresses, parsedate_to_datetime

import pytest

from adapters.mail import ConsoleMailer, Mailer, MailError, OutgoingMail, SmtpMailer
from adapters.mail.message import build_message
from tests.support.smtp import SmtpTestServer, free_port, serve_smtp

smtp_server = pytest.fixture(serve_smtp, name="smtp_server")

SENDER = "Служба поддержки <desk@service.example>"


@dataclass(frozen=True)
class Delivered:
    """What one implementation did with a message, in a form common to all of them."""

    recipients: tuple[str, ...]
    subject: str
    body: str
    message_id: str
    headers: dict[str, str]


@dataclass
class MailerCase:
    mailer: Mailer
    delivered: Callable[[int], list[Delivered]]  # waits for at least n messages


def _smtp_case(server: SmtpTestServer) -> MailerCase:
    def delivered(count: int) -> list[Delivered]:
        return [
            Delivered(m.recipients, m.subject, m.body, m.message_id, {k: str(v) for k, v in m.message.items()})
            for m in server.wait_for_count(count)
        ]

    return MailerCase(SmtpMailer(server.host, server.port, SENDER, timeout=5), delivered)


_CONSOLE_BLOCK = re.compile(r"^----- mail <(.+?)> -----\n(.*?)\n----- end of mail <\1> -----$", re.S | re.M)


def _console_case() -> MailerCase:
    stream = io.StringIO()

    def delivered(count: int) -> list[Delivered]:
        found = []
        for _, block in _CONSOLE_BLOCK.findall(stream.getvalue()):
            head, _, body = block.partition("\n\n")
            headers = dict(line.split(": ", 1) for line in head.splitlines())
            recipients = tuple(address for _, address in getaddresses([headers["To"]]))
            found.append(Delivered(recipients, headers["Subject"], body, headers["Message-ID"], headers))
        assert len(found) >= count, stream.getvalue()
        return found

    return MailerCase(ConsoleMailer(stream), delivered)


@pytest.fixture(params=["smtp", "console"])
def case(request: pytest.FixtureRequest) -> Iterator[MailerCase]:
    if request.param == "smtp":
        with SmtpTestServer() as server:
            yield _smtp_case(server)
    else:
        yield _console_case()


def _mail(**changes: object) -> OutgoingMail:
    fields: dict[str, object] = {
        "to": ("client@bank.example",),
        "subject": "Ticket SD-000042 is open",
        "body": "Your ticket SD-000042 is open.\nFolder: https://files.example/tickets/SD-000042\n",
        "message_id": "SD-000042.opened@service.example",
    }
    fields.update(changes)
    return OutgoingMail(**fields)  # type: ignore[arg-type]


# Contract: every Mailer


def test_implements_the_protocol(case: MailerCase) -> None:
    assert isinstance(case.mailer, Mailer)


def test_recipient_subject_body_and_message_id_arrive(case: MailerCase) -> None:
    mail = _mail()

    case.mailer.send(mail)

    [got] = case.delivered(1)
    assert got.recipients == ("client@bank.example",)
    assert got.subject == mail.subject
    assert got.body.rstrip("\n") == mail.body.rstrip("\n")
    assert got.message_id == "<SD-000042.opened@service.example>"


def test_non_ascii_subject_body_and_names_arrive_intact(case: MailerCase) -> None:
    mail = _mail(
        to=("Иван Петров <ivan@bank.example>",),
        subject="Заявка SD-000042 открыта: «диск в массиве IBM DS8000»",
        body="Здравствуйте, Иван!\n\nВаша заявка зарегистрирована.\nПапка: https://files.example/tickets/SD-000042",
    )

    case.mailer.send(mail)

    [got] = case.delivered(1)
    assert got.recipients == ("ivan@bank.example",)
    assert got.subject == mail.subject
    assert got.body.rstrip("\n") == mail.body


def test_several_recipients_get_one_message(case: MailerCase) -> None:
    case.mailer.send(_mail(to=("a@bank.example", '"Duty, officer" <duty@service.example>', "c@bank.example")))

    [got] = case.delivered(1)
    assert got.recipients == ("a@bank.example", "duty@service.example", "c@bank.example")


def test_extra_headers_arrive(case: MailerCase) -> None:
    case.mailer.send(_mail(headers={"X-Ticket": "SD-000042", "Reply-To": "desk+SD-000042@service.example"}))

    [got] = case.delivered(1)
    assert got.headers["X-Ticket"] == "SD-000042"
    assert got.headers["Reply-To"] == "desk+SD-000042@service.example"


def test_awkward_bodies_survive(case: MailerCase) -> None:
    body = "\n".join([".", ".leading dot", "From the field engineer", "", "x" * 1200, "tab\there", "end"])

    case.mailer.send(_mail(body=body))

    [got] = case.delivered(1)
    assert got.body.rstrip("\n") == body


def test_a_resent_message_keeps_its_message_id(case: MailerCase) -> None:
    mail = _mail()

    case.mailer.send(mail)
    case.mailer.send(mail)

    first, second = case.delivered(2)
    assert first.message_id == second.message_id == "<SD-000042.opened@service.example>"


# OutgoingMail


def test_outgoing_mail_normalises_and_freezes() -> None:
    mail = _mail(to=["a@b.example"], message_id="<x.1@b.example>", headers={"X-Ticket": "SD-1"})

    assert mail.to == ("a@b.example",)
    assert mail.message_id == "x.1@b.example"
    assert mail == _mail(to=("a@b.example",), message_id="x.1@b.example", headers={"X-Ticket": "SD-1"})
    assert hash(mail) == hash(_mail(to=("a@b.example",), message_id="x.1@b.example"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        mail.subject = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        mail.headers["X-Ticket"] = "SD-2"  # type: ignore[index]


def test_outgoing_mail_copies_the_callers_headers() -> None:
    headers = {"X-Ticket": "SD-1"}
    mail = _mail(headers=headers)
    headers["X-Ticket"] = "SD-2"

    assert mail.headers["X-Ticket"] == "SD-1"


@pytest.mark.parametrize(
    "raw",
    [
        "Hi\r\nBcc: x@evil.example",
        "Hi\nBcc: x@evil.example",
        "Hi\rBcc: x@evil.example",
        "Hi\x00\x85Bcc: x@evil.example",
    ],
    ids=repr,
)
def test_a_line_break_in_a_header_value_cannot_inject_a_header(raw: str) -> None:
    mail = _mail(subject=raw, headers={"X-Ticket": raw})
    built = message_from_bytes(build_message(mail, sender=SENDER).as_bytes(), policy=policy.SMTP)
    assert built["Bcc"] is None
    assert str(built["Subject"]) == str(built["X-Ticket"]) == "Hi Bcc: x@evil.example"
    assert built.keys() == [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "X-Ticket",
        "Content-Type",
        "Content-Transfer-Encoding",
        "MIME-Version",
    ]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"to": ()}, ValueError),
        ({"to": "a@b.example"}, TypeError),
        ({"to": ("not an address",)}, ValueError),
        ({"to": ("a@b.example, c@d.example",)}, ValueError),
        ({"to": ("a@b.example\r\nBcc: x@evil.example",)}, ValueError),
        ({"body": b"bytes"}, TypeError),
        ({"message_id": ""}, ValueError),
        ({"message_id": "two words@x"}, ValueError),
        ({"message_id": "a@b@c"}, ValueError),
        ({"message_id": "a..b@c"}, ValueError),
        ({"message_id": "<a@b"}, ValueError),
        ({"headers": {"Subject": "again"}}, ValueError),
        ({"headers": {"message-id": "<x@y>"}}, ValueError),
        ({"headers": {"Bad Name": "x"}}, ValueError),
    ],
    ids=repr,
)
def test_outgoing_mail_refuses_bad_values(changes: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        _mail(**changes)


# SmtpMailer specifics


def test_smtp_sets_envelope_from_date_and_plain_text_utf8(smtp_server: SmtpTestServer) -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    SmtpMailer(smtp_server.host, smtp_server.port, SENDER).send(_mail(body="Привет"))

    [got] = smtp_server.wait_for_count(1)
    assert got.envelope_from == "desk@service.example"
    assert str(got.message["From"]) == SENDER
    assert str(got.message["To"]) == "client@bank.example"
    sent_at = parsedate_to_datetime(str(got.message["Date"]))
    assert sent_at.tzinfo is not None
    assert before <= sent_at <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert got.message.get_content_type() == "text/plain"
    assert got.message.get_content_charset() == "utf-8"
    assert got.message["Content-Transfer-Encoding"] in ("base64", "quoted-printable")


def test_smtp_wire_format_is_7bit_and_unmangled(smtp_server: SmtpTestServer) -> None:
    body = "Здравствуйте!\nFrom the engineer: replaced the disk.\n"
    SmtpMailer(smtp_server.host, smtp_server.port, SENDER).send(_mail(subject="Заявка", body=body))

    [got] = smtp_server.wait_for_count(1)
    assert got.raw.isascii()  # passes relays without 8BITMIME
    assert got.body == body

    SmtpMailer(smtp_server.host, smtp_server.port, SENDER).send(_mail(body="From the engineer\n"))
    assert b"\r\nFrom the engineer\r\n" in smtp_server.wait_for_count(2)[1].raw


def test_smtp_message_id_without_domain_gets_the_senders(smtp_server: SmtpTestServer) -> None:
    SmtpMailer(smtp_server.host, smtp_server.port, SENDER).send(_mail(message_id="SD-000042.opened"))

    [got] = smtp_server.wait_for_count(1)
    assert got.message_id == "<SD-000042.opened@service.example>"


def test_smtp_non_ascii_addresses_use_smtputf8(smtp_server: SmtpTestServer) -> None:
    mailer = SmtpMailer(smtp_server.host, smtp_server.port, "Служба <служба@поддержка.рф>")

    mailer.send(_mail(to=("Иван <иван@банк.рф>",), subject="Заявка открыта"))

    [got] = smtp_server.wait_for_count(1)
    assert got.envelope_from == "служба@поддержка.рф"
    assert got.recipients == ("иван@банк.рф",)
    assert got.subject == "Заявка открыта"
    assert got.message_id == "<SD-000042.opened@service.example>"


def test_smtp_login(smtp_server_with_login: SmtpTestServer) -> None:
    server = smtp_server_with_login
    SmtpMailer(server.host, server.port, SENDER, username="desk", password="s3cret").send(_mail())

    [got] = server.wait_for_count(1)
    assert got.login == "desk"


def test_smtp_wrong_password_is_a_permanent_mail_error(smtp_server_with_login: SmtpTestServer) -> None:
    server = smtp_server_with_login
    mailer = SmtpMailer(server.host, server.port, SENDER, username="desk", password="wrong")

    with pytest.raises(MailError) as raised:
        mailer.send(_mail())

    assert isinstance(raised.value.__cause__, smtplib.SMTPAuthenticationError)
    assert raised.value.transient is False
    assert server.messages == []


def test_smtp_login_against_a_server_without_auth_fails_clearly(smtp_server: SmtpTestServer) -> None:
    mailer = SmtpMailer(smtp_server.host, smtp_server.port, SENDER, username="desk", password="s3cret")

    with pytest.raises(MailError) as raised:
        mailer.send(_mail())

    assert isinstance(raised.value.__cause__, smtplib.SMTPNotSupportedError)
    assert raised.value.transient is False


def test_smtp_starttls_against_a_server_without_it_fails_clearly(smtp_server: SmtpTestServer) -> None:
    mailer = SmtpMailer(smtp_server.host, smtp_server.port, SENDER, starttls=True)

    with pytest.raises(MailError, match="STARTTLS") as raised:
        mailer.send(_mail())

    assert raised.value.transient is False
    assert smtp_server.messages == []


def test_smtp_nothing_listening_is_a_transient_mail_error() -> None:
    port = free_port()
    mail = _mail()

    with pytest.raises(MailError) as raised:
        SmtpMailer("127.0.0.1", port, SENDER, timeout=2).send(mail)

    error = raised.value
    assert isinstance(error.__cause__, ConnectionRefusedError)
    assert error.transient is True
    assert error.message_id == mail.message_id
    assert f"127.0.0.1:{port}" in str(error)


def test_smtp_silent_server_times_out_as_a_transient_mail_error() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]

        started = time.monotonic()
        with pytest.raises(MailError, match="timed out") as raised:
            SmtpMailer("127.0.0.1", port, SENDER, timeout=0.3).send(_mail())

    assert time.monotonic() - started < 3
    assert raised.value.transient is True


@pytest.mark.parametrize(("reply", "transient"), [("550 5.1.1 no such user", False), ("451 4.3.0 later", True)])
def test_smtp_refused_recipient(reply: str, transient: bool) -> None:
    with SmtpTestServer(reject={"gone@bank.example": reply}) as server:
        with pytest.raises(MailError) as raised:
            SmtpMailer(server.host, server.port, SENDER).send(_mail(to=("gone@bank.example",)))

        assert isinstance(raised.value.__cause__, smtplib.SMTPRecipientsRefused)
        assert raised.value.transient is transient
        assert server.messages == []


def test_smtp_partly_refused_recipients_deliver_to_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    with SmtpTestServer(reject={"gone@bank.example": "550 no such user"}) as server:
        mailer = SmtpMailer(server.host, server.port, SENDER)
        with caplog.at_level(logging.WARNING, logger="adapters.mail.smtp"):
            mailer.send(_mail(to=("gone@bank.example", "client@bank.example")))

        [got] = server.wait_for_count(1)
    assert got.recipients == ("client@bank.example",)
    assert "gone@bank.example" in caplog.text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sender": "no address"},
        {"sender": ""},
        {"port": 0},
        {"port": 70000},
        {"host": ""},
        {"username": "desk"},
        {"password": "s3cret"},
        {"timeout": 0},
    ],
    ids=repr,
)
def test_smtp_refuses_bad_settings(kwargs: dict[str, object]) -> None:
    settings: dict[str, object] = {"host": "127.0.0.1", "port": 25, "sender": SENDER, **kwargs}
    with pytest.raises(ValueError):
        SmtpMailer(**settings)  # type: ignore[arg-type]


# ConsoleMailer specifics


def test_console_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    mailer = ConsoleMailer()  # created before capsys replaced stdout would still follow it

    mailer.send(_mail(subject="Заявка SD-000042 открыта"))

    out = capsys.readouterr().out
    assert "To: client@bank.example" in out
    assert "Subject: Заявка SD-000042 открыта" in out  # readable, not MIME-encoded
    assert "https://files.example/tickets/SD-000042" in out


def test_console_keeps_concurrent_messages_whole() -> None:
    stream = io.StringIO()
    mailer = ConsoleMailer(stream)
    threads = [
        threading.Thread(target=mailer.send, args=(_mail(message_id=f"m{i}@x.example", body="line\n" * 50),))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(_CONSOLE_BLOCK.findall(stream.getvalue())) == 8


@pytest.fixture
def smtp_server_with_login() -> Iterator[SmtpTestServer]:
    with SmtpTestServer(credentials={"desk": "s3cret"}) as server:
        yield server
