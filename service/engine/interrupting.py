"""Interrupting event sub-processes, which SpiffWorkflow 3.2 runs as if they were non-interrupting.

When the start event of an interrupting event sub-process completes, everything else of the scope holding the
sub-process ends: its flow (open tasks, waiting events and timers, embedded sub-processes) and the other event
sub-processes it runs. The event sub-process then runs alone; when it ends, the scope ends. The scope's event
sub-processes no longer wait for their messages (`interrupted`).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState


def interrupt(start: Any) -> None:
    """Cancel all but the event sub-process that `start` (its completed start event) began, within its scope."""
    scope = start.workflow.top_workflow.get_task_from_id(start.workflow.parent_task_id)
    holder = scope.workflow
    for child in list(holder.task_tree.children):
        if child is not scope:
            child.cancel()
    # The waiting events of what ended stop waiting (a timer or message of the cancelled flow fires nothing).
    manager = holder.top_workflow.event_manager
    for task in list(manager.tasks.values()):
        if task.has_state(TaskState.FINISHED_MASK):
            manager.remove_task(task)


def interrupted(workflow: Any, starts: frozenset[str]) -> bool:
    """Whether an interrupting event sub-process of the process itself has begun (its start event completed)."""
    for child in workflow.task_tree.children if starts else ():
        sub = workflow.subprocesses.get(child.id)
        if sub is not None and any(
            task.task_spec.bpmn_id in starts for task in sub.get_tasks(state=TaskState.COMPLETED)
        ):
            return True
    return False
