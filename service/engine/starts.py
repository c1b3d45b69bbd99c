"""How an instance of a process beside the ticket flow starts: its start events (plain, a timer, a message).

The service starts such an instance when the start event's trigger happens (the worker fires the timer's row of the
due-timer table, a message arrives, or a person asks through the API): the instance then begins as if its start
event had just caught it, once. A cycle's later moments start further instances (the row is scheduled again); none
of them repeats inside one instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.util.task import TaskState

from .diagram_model import NS
from .scripting import has_expression
from .timers import TIME_CYCLE, TimerError, TimerSpec, first_due, parse_cycle


@dataclass(frozen=True)
class StartTrigger:
    """A start event of the process itself: its element, and its timer or its message's name (neither: plain)."""

    element_id: str
    timer: TimerSpec | None = None
    message: str | None = None


def start_triggers(root: etree._Element, key: str, timers: dict[str, TimerSpec]) -> tuple[StartTrigger, ...]:
    """The start events directly in the process `key` (not those of its sub-processes)."""
    process = next((p for p in root.iterfind("bpmn:process", NS) if p.get("id") == key), None)
    if process is None:
        return ()
    names = {m.get("id"): (m.get("name") or "").strip() for m in root.iterfind("bpmn:message", NS)}
    found = []
    for node in process.iterfind("bpmn:startEvent", NS):
        element = node.get("id") or ""
        message = node.find("bpmn:messageEventDefinition", NS)
        name = names.get(message.get("messageRef")) if message is not None else None
        found.append(StartTrigger(element, timers.get(element), name or None))
    return tuple(found)


def pass_start_events(workflow: Any) -> None:
    """Let the process's start events go on as if their trigger had happened (before the first `advance`)."""
    for task in workflow.get_tasks():
        if task.workflow is not workflow or not isinstance(task.task_spec, StartEvent):
            continue
        task._set_internal_data(event_fired=True)
        if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition) and not task.children:
            for output in task.task_spec.outputs:  # a cycle's start event predicts no path: it adds one per firing
                child = task._add_child(output, TaskState.FUTURE)
                child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)


def first_start(spec: TimerSpec, now: datetime) -> datetime | None:
    """When a timer start event deployed at `now` first starts an instance: None for a cycle of no repeats; for a
    cycle dated in the past, its first moment from `now` on. Its text must be literal: nothing runs at deployment
    to give an expression its variables (TimerError)."""
    if has_expression(spec.text):
        raise TimerError("a timer start event needs a literal ISO 8601 text, not an expression")
    if spec.kind != TIME_CYCLE:
        return first_due(spec.kind, spec.text, now)
    cycle = parse_cycle(spec.text, now)
    if cycle.repeats == 0:
        return None
    moment = cycle.first
    if cycle.every <= timedelta(0):
        return moment
    while moment < now:  # a cycle dated in the past begins at its first moment after the deployment
        moment += cycle.every
    return moment


def next_start(spec: TimerSpec, *, due_at: datetime, fired: int, now: datetime) -> datetime | None:
    """The moment after `due_at` a cycle starts its next instance, past `now` (a late worker starts one, not every
    missed one); None once its repeats are done, and always for a date or a duration (they start one)."""
    if spec.kind != TIME_CYCLE:
        return None
    cycle = parse_cycle(spec.text, due_at)
    if cycle.repeats >= 0 and fired >= cycle.repeats:
        return None
    moment = due_at + cycle.every
    while moment <= now and cycle.every > timedelta(0):
        moment += cycle.every
    return moment
