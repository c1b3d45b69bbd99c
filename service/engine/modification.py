"""Moving a running instance's token by hand (Camunda's instance modification, simplified).

A process owner cancels the tokens an instance holds at some elements and starts a new one before another element
of the same diagram, e.g. to step past a script that keeps failing or to send a ticket back to an earlier task.
The cancelled tasks end (their events stop waiting); the new task hangs where the first cancelled one hung, gets the
variables the cancelled ones held, and is ready at once: the next ``advance()`` runs the flow from there.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from SpiffWorkflow.util.task import TaskState

from .errors import ModificationRefused
from .pruning import OPEN
from .specs import kind_of

#: Elements a token cannot be started before: a start event begins an instance, a boundary event belongs to the
#: task it is attached to.
NOT_HOLDING = frozenset({"startEvent", "boundaryEvent"})


def token_elements(workflow: Any) -> list[str]:
    """The elements the instance holds a token at (an open task of the top-level process), each once, sorted."""
    return sorted({task.task_spec.bpmn_id for task in _open_tasks(workflow)})


def move_token(workflow: Any, cancel: Collection[str], start_before: str) -> None:
    """Cancel the instance's tokens at `cancel` and put one before `start_before` (ModificationRefused says why
    not: an unknown element, one that cannot hold a token, no token to cancel, a completed instance)."""
    if workflow.is_completed():
        raise ModificationRefused("cancel", "the instance has ended")
    target = target_spec(workflow, start_before)
    tokens = [task for task in _open_tasks(workflow) if task.task_spec.bpmn_id in cancel]
    missing = sorted(set(cancel) - {task.task_spec.bpmn_id for task in tokens})
    if missing or not cancel:
        held = ", ".join(token_elements(workflow)) or "none"
        raise ModificationRefused(
            "cancel", f"the instance holds no token at {', '.join(missing) or '-'} (it holds: {held})"
        )
    restart(workflow, tokens, [target])


def open_tokens(workflow: Any) -> list[Any]:
    """The open tasks of the top-level process: the instance's tokens."""
    return _open_tasks(workflow)


def restart(workflow: Any, tokens: list[Any], targets: list[Any]) -> None:
    """Cancel `tokens` (at least one) and start one token before each of `targets` (task specs), hung where the
    first cancelled token hung, each with the variables the cancelled ones held."""
    data: dict[str, Any] = {}
    for task in tokens:
        data.update(copy.deepcopy(task.data))
    parent = _anchor(tokens[0])
    for task in tokens:
        _cancel(workflow, task)
    for target in targets:
        token = parent._add_child(target, TaskState.FUTURE)
        token.data = copy.deepcopy(data)
        target._predict(token, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
        token._ready()


def target_spec(workflow: Any, element_id: str) -> Any:
    """The task spec of a top-level element a token may start before (ModificationRefused otherwise)."""
    spec = workflow.spec.task_specs.get(element_id)
    if spec is None or getattr(spec, "bpmn_id", None) != element_id:
        nested = any(element_id in sub.task_specs for sub in workflow.subprocess_specs.values())
        if nested:
            raise ModificationRefused(
                "start_before", f"{element_id} lies inside a sub-process: a token cannot be started there"
            )
        raise ModificationRefused("start_before", f"the diagram has no element {element_id}")
    kind = kind_of(spec)
    if kind in NOT_HOLDING:
        raise ModificationRefused("start_before", f"{element_id} is a {kind}: it cannot hold a token")
    return spec


def _open_tasks(workflow: Any) -> list[Any]:
    return [task for task in workflow.get_tasks(state=OPEN) if getattr(task.task_spec, "bpmn_id", None)]


def _anchor(task: Any) -> Any:
    """Where the new token hangs: the cancelled task's parent, or above the split of a task with boundary events."""
    parent = task.parent
    if type(parent.task_spec).__name__ == "BoundaryEventSplit":
        return parent.parent
    return parent


def _cancel(workflow: Any, task: Any) -> None:
    """End the task and, for a task with boundary events, the events waiting on it."""
    split = task.parent
    if type(split.task_spec).__name__ == "BoundaryEventSplit":
        for sibling in split.children:
            workflow.event_manager.remove_task(sibling)
            sibling.cancel()
        split.cancel()
    workflow.event_manager.remove_task(task)
    task.cancel()
