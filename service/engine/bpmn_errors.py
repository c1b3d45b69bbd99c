"""BPMN errors thrown at an external task: the boundary event that catches one, the event it is given, and the errors
thrown that nothing in the instance caught."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from .diagram_model import ErrorCatch


def error_catcher(task: Any, code: str) -> Any:
    """The waiting error boundary event nearest to `task` that catches `code`: one of that code before a catch-all."""
    current = task
    while current is not None:
        split = current.parent
        if split is not None and isinstance(split.task_spec, BoundaryEventSplit):
            waiting = [
                child
                for child in split.children
                if child.state == TaskState.WAITING
                and isinstance(getattr(child.task_spec, "event_definition", None), ErrorEventDefinition)
            ]
            for wanted in (code, None):
                found = [child for child in waiting if child.task_spec.event_definition.code == wanted]
                if found:
                    return found[0]
        parent_id = current.workflow.parent_task_id
        current = current.workflow.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None
    return None


def error_event(code: str, message: str, payload: dict[str, Any], rule: ErrorCatch | None) -> BpmnEvent:
    """The event a catcher of `rule` gets: `payload`, with the code and message in the variables `rule` names."""
    if rule is not None and rule.code_variable:
        payload[rule.code_variable] = code
    if rule is not None and rule.message_variable:
        payload[rule.message_variable] = message
    return BpmnEvent(ErrorEventDefinition(code, code), payload=payload)


def catch(catcher: Any, event: BpmnEvent) -> None:
    """Give `event` to the waiting boundary event `catcher`: its path runs on the next engine steps."""
    catcher.task_spec.catch(catcher, event)
    catcher.task_spec._update(catcher)


def uncaught_error(workflow: Any) -> ErrorEventDefinition | None:
    """An error thrown that nothing in the instance caught (such events end up in the workflow's outgoing events,
    which nobody outside reads), or None."""
    thrown = [e for e in workflow.get_events() if isinstance(e.event_definition, ErrorEventDefinition)]
    return thrown[0].event_definition if thrown else None
