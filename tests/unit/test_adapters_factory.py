"""Choosing adapters by configuration name."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import adapters
from adapters import (
    FILE_STORE_KINDS,
    MAILER_KINDS,
    ConsoleMailer,
    FileStore,
    LocalFolderStore,
    Mailer,
    SmtpMailer,
    build_file_store,
    build_mailer,
)


def test_kinds_are_listed() -> None:
    assert FILE_STORE_KINDS == ("local",)
    assert MAILER_KINDS == ("console", "smtp")


def test_local_file_store(tmp_path: Path) -> None:
    store = build_file_store("local", root=tmp_path / "t", base_url="file:///srv/tickets")

    assert isinstance(store, LocalFolderStore)
    assert isinstance(store, FileStore)
    assert store.create_folder("SD-000042") == "file:///srv/tickets/SD-000042"


def test_smtp_mailer() -> None:
    mailer = build_mailer("smtp", host="mail.example", port=587, sender="desk@example.com", starttls=True)

    assert isinstance(mailer, SmtpMailer)
    assert isinstance(mailer, Mailer)
    assert (mailer.host, mailer.port, mailer.starttls) == ("mail.example", 587, True)


def test_console_mailer() -> None:
    stream = io.StringIO()
    mailer = build_mailer("console", stream=stream)

    assert isinstance(mailer, ConsoleMailer)
    assert mailer.stream is stream
    assert isinstance(build_mailer("console"), ConsoleMailer)


def test_kind_is_read_leniently(tmp_path: Path) -> None:
    assert isinstance(build_mailer(" Console\n"), ConsoleMailer)
    assert isinstance(build_file_store("LOCAL", root=tmp_path, base_url="file:///t"), LocalFolderStore)


def test_unknown_kinds_name_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown mailer kind 'sendgrid'; allowed kinds: console, smtp"):
        build_mailer("sendgrid")
    with pytest.raises(ValueError, match=r"unknown file store kind 's3'; allowed kinds: local"):
        build_file_store("s3")


def test_unknown_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        build_mailer("console", host="mail.example")
    with pytest.raises(TypeError):
        build_file_store("local", root=tmp_path, base_url="file:///t", bucket="x")


def test_package_exports_resolve() -> None:
    for name in adapters.__all__:
        assert getattr(adapters, name) is not None
