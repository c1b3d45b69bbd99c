"""The loopback SMTP test server (tests/support/smtp.py), in-process and as a standalone process."""

from __future__ import annotations

import json
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.mail import OutgoingMail, SmtpMailer
from tests.support.smtp import (
    READY_LINE,
    ReceivedMessage,
    SmtpServerProcess,
    SmtpTestServer,
    free_port,
    read_mbox,
    serve_smtp,
)

smtp_server = pytest.fixture(serve_smtp, name="smtp_server")

MAIL = OutgoingMail(
    to=("Иван <ivan@bank.example>", "duty@service.example"),
    subject="Заявка SD-000042 открыта",
    body="Папка: https://files.example/tickets/SD-000042\n",
    message_id="SD-000042.opened@service.example",
    headers={"X-Ticket": "SD-000042"},
)


def _send(host: str, port: int, mail: OutgoingMail = MAIL) -> None:
    SmtpMailer(host, port, "desk@service.example", timeout=5).send(mail)


def test_fixture_server_listens_on_a_free_loopback_port(smtp_server: SmtpTestServer) -> None:
    assert smtp_server.host == "127.0.0.1"
    assert smtp_server.port > 0

    _send(smtp_server.host, smtp_server.port)

    [got] = smtp_server.wait_for_count(1)
    assert got.envelope_from == "desk@service.example"
    assert got.recipients == ("ivan@bank.example", "duty@service.example")
    assert got.subject == MAIL.subject
    assert got.message_id == "<SD-000042.opened@service.example>"
    assert got.body == MAIL.body
    assert got.message["X-Ticket"] == "SD-000042"


def test_context_manager_stops_listening() -> None:
    with SmtpTestServer() as server:
        port = server.port
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            assert client.noop()[0] == 250

    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP("127.0.0.1", port, timeout=5)


def test_explicit_port_is_used() -> None:
    port = free_port()
    with SmtpTestServer(port=port) as server:
        assert server.port == port
        _send("127.0.0.1", port)
        assert len(server.wait_for_count(1)) == 1


def test_two_servers_get_different_ports() -> None:
    with SmtpTestServer() as first, SmtpTestServer() as second:
        assert first.port != second.port


def test_wait_for_uses_the_predicate_and_times_out(smtp_server: SmtpTestServer) -> None:
    _send(smtp_server.host, smtp_server.port)
    got = smtp_server.wait_for(lambda messages: any("SD-000042" in m.subject for m in messages), timeout=5)
    assert len(got) == 1

    started = time.monotonic()
    with pytest.raises(TimeoutError, match="got 1 message"):
        smtp_server.wait_for_count(2, timeout=0.2)
    assert time.monotonic() - started < 2


def test_clear_forgets_messages(smtp_server: SmtpTestServer) -> None:
    _send(smtp_server.host, smtp_server.port)
    smtp_server.wait_for_count(1)

    smtp_server.clear()

    assert smtp_server.messages == []


def test_on_message_is_called_for_each_message() -> None:
    seen: list[ReceivedMessage] = []
    with SmtpTestServer(on_message=seen.append) as server:
        _send(server.host, server.port)
        server.wait_for_count(1)
    assert [m.subject for m in seen] == [MAIL.subject]


def test_read_mbox_ignores_a_half_written_last_line(tmp_path: Path) -> None:
    mbox = tmp_path / "mail.jsonl"
    assert read_mbox(mbox) == []
    mbox.write_text('{"subject": "one"}\n{"subj', encoding="utf-8")

    assert read_mbox(mbox) == [{"subject": "one"}]


def test_standalone_process_records_mail_and_stops_on_sigterm(tmp_path: Path) -> None:
    mbox = tmp_path / "var" / "mail.jsonl"
    started = time.monotonic()
    server = SmtpServerProcess(mbox).start()
    try:
        assert time.monotonic() - started < 5  # starts quickly
        assert mbox.exists()

        _send(server.host, server.port)
        _send(server.host, server.port, OutgoingMail(("x@bank.example",), "second", "2", "m2@service.example"))

        first, second = server.wait_for_count(2)
    finally:
        stopping = time.monotonic()
        code = server.stop()

    assert code == 0
    assert time.monotonic() - stopping < 3
    assert first["envelope_from"] == "desk@service.example"
    assert first["recipients"] == ["ivan@bank.example", "duty@service.example"]
    assert first["subject"] == MAIL.subject
    assert first["message_id"] == "<SD-000042.opened@service.example>"
    assert first["body"] == MAIL.body
    assert first["headers"]["X-Ticket"] == "SD-000042"
    assert second["subject"] == "second"
    lines = mbox.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["message_id"] for line in lines] == [
        "<SD-000042.opened@service.example>",
        "<m2@service.example>",
    ]
    assert "Заявка" in lines[0]  # written as UTF-8, readable in the file


def test_standalone_process_cli(tmp_path: Path) -> None:
    port = free_port()
    mbox = tmp_path / "mail.jsonl"
    mbox.write_text('{"subject": "kept"}\n', encoding="utf-8")
    command = [sys.executable, "-m", "tests.support.smtp", "--port", str(port), "--mbox", str(mbox)]
    repo_root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(command, cwd=repo_root, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == READY_LINE.format(host="127.0.0.1", port=port)
        _send("127.0.0.1", port)
        deadline = time.monotonic() + 10
        while len(read_mbox(mbox)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    assert [m["subject"] for m in read_mbox(mbox)] == ["kept", MAIL.subject]  # appends, never truncates


def test_standalone_process_that_cannot_bind_reports_it(tmp_path: Path) -> None:
    with SmtpTestServer() as busy:
        process = SmtpServerProcess(tmp_path / "mail.jsonl", port=busy.port, startup_timeout=15)
        with pytest.raises(RuntimeError, match="did not start"):
            process.start()
        assert process.process is not None and process.process.returncode not in (None, 0)
