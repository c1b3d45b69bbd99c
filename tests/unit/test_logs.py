"""The service's logging set-up: its own level, and the workflow library quiet unless debugging."""

from __future__ import annotations

import logging

import pytest

from service.logs import configure_logging


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
