"""The service's logging set-up: its level, the workflow library quiet unless debugging, JSON or text lines."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pytest

from service.logs import configure_logging
from service.observability import request_id


@pytest.fixture(autouse=True)
def restore_levels():  # type: ignore[no-untyped-def]
    saved = {name: logging.getLogger(name).level for name in ("", "spiff")}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_the_workflow_library_speaks_only_from_warning_up_at_info() -> None:
    configure_logging("info")
    assert not logging.getLogger("spiff.task").isEnabledFor(logging.INFO)
    assert logging.getLogger("spiff.task").isEnabledFor(logging.WARNING)


def test_debug_lets_the_workflow_library_speak() -> None:
    configure_logging("DEBUG")
    assert logging.getLogger("spiff.task").isEnabledFor(logging.DEBUG)


def test_error_is_not_lowered_to_warning() -> None:
    configure_logging("ERROR")
    assert not logging.getLogger("spiff").isEnabledFor(logging.WARNING)


def test_an_unknown_level_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="LOUD"):
        configure_logging("LOUD")


@pytest.fixture
def root_handlers():  # type: ignore[no-untyped-def]
    saved = list(logging.getLogger().handlers)
    yield
    logging.getLogger().handlers[:] = saved


def test_json_lines_carry_time_level_logger_message_request_id_and_extras(
    root_handlers: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    token = request_id.bind("req-1")
    try:
        logging.getLogger("orchestrator.test").info("job %s done", 7, extra={"job": 7, "topic": "mail.x"})
    finally:
        request_id.unbind(token)
    logging.getLogger("orchestrator.test").warning("outside")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["level"] == "INFO" and first["logger"] == "orchestrator.test" and first["message"] == "job 7 done"
    assert (first["request_id"], first["job"], first["topic"]) == ("req-1", 7, "mail.x")
    assert datetime.fromisoformat(first["time"]).utcoffset() == timedelta(0)
    assert second["request_id"] is None and second["level"] == "WARNING"


def test_an_exception_is_one_json_line_with_its_traceback(
    root_handlers: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        logging.getLogger("orchestrator.test").exception("failed")
    [line] = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert entry["message"] == "failed" and "RuntimeError: boom" in entry["exception"]


def test_text_lines_show_the_request_id_and_set_up_twice_is_one_handler(
    root_handlers: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    configure_logging("INFO", "text")
    token = request_id.bind("req-2")
    try:
        logging.getLogger("orchestrator.test").info("hello")
    finally:
        request_id.unbind(token)
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith("INFO orchestrator.test [req-2] hello")


def test_an_unknown_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="yaml"):
        configure_logging("INFO", "yaml")
