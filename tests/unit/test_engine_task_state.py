"""A task's change of state builds SpiffWorkflow's log record only when the record is written, and changes the same
states either way."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from SpiffWorkflow.task import Task

from service.engine import task_state
from tests.unit.test_engine_helpers import Driver, FakeRules, ticket_definition


def _walk_the_ticket_flow() -> list[tuple[str, int]]:
    """The state of every task of the ticket flow's instance after a clarify and two escalations."""
    driver = Driver(ticket_definition(), FakeRules(max_level=2))
    driver.complete("clarify", {"description": "two failed disks"})
    for _ in range(2):
        driver.complete("resolve", {"outcome": "escalate"})
    workflow = driver.run._workflow
    trees = [workflow, *workflow.subprocesses.values()]
    return [(task.task_spec.name, task.state) for tree in trees for task in tree.tasks.values()]


def test_the_flow_reaches_the_same_states_as_with_spiffworkflows_own_change(monkeypatch: pytest.MonkeyPatch):
    quiet = _walk_the_ticket_flow()
    monkeypatch.setattr(Task, "_set_state", task_state._logged)
    assert quiet == _walk_the_ticket_flow()
    assert len(quiet) > 20


def test_no_log_details_are_built_while_the_task_logger_writes_nothing(monkeypatch: pytest.MonkeyPatch):
    built: list[Any] = []
    original = Task.collect_log_extras
    monkeypatch.setattr(Task, "collect_log_extras", lambda task, dct=None: built.append(task) or original(task, dct))
    logging.getLogger("spiff.task").setLevel(logging.WARNING)
    try:
        _walk_the_ticket_flow()
    finally:
        logging.getLogger("spiff.task").setLevel(logging.NOTSET)
    assert built == []


def test_the_state_changes_are_logged_as_before_when_someone_listens(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.DEBUG, logger="spiff.task"):
        _walk_the_ticket_flow()
    changed = [record for record in caplog.records if record.getMessage().startswith("State changed to")]
    assert changed and all(record.task_spec and record.task_id for record in changed)
    assert {"READY", "COMPLETED"} <= {record.getMessage().rsplit(" ", 1)[-1] for record in changed}
