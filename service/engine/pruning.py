"""Keep an instance's task tree bounded when its diagram loops back.

SpiffWorkflow appends every pass of a gateway loop-back to the task tree: the tree deepens by a
few levels per pass, serialising grows with it, and past depth 1000 task iteration silently
stops (the instance then looks completed). When an open task has an ancestor of the same spec,
everything from that ancestor down to the open task's parent is a finished loop pass: we cut it
out and hang the open task where the ancestor was. The history of the pass lives in the
service's tables (events), not in the tree.

A pass is only cut when everything it contains is finished (or merely predicted), so a loop
with a branch still running elsewhere is left alone.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
REMOVABLE = TaskState.FINISHED_MASK | TaskState.PREDICTED_MASK


def prune_loop_passes(top: Any) -> int:
    """Cut finished loop passes out of the instance and its subprocesses; return tasks removed."""
    removed = 0
    for workflow in [top, *top.subprocesses.values()]:
        if workflow is not top and workflow.parent_task_id not in top.subprocesses:
            continue  # dropped with its parent task in an earlier cut
        removed += _prune(top, workflow)
    return removed


def _prune(top: Any, workflow: Any) -> int:
    removed = 0
    while True:
        cut = _find_cut(top, workflow)
        if cut is None:
            return removed
        upper, lower, doomed = cut
        _splice(top, workflow, upper, lower, doomed)
        removed += len(doomed)


def _find_cut(top: Any, workflow: Any) -> tuple[Any, Any, list[Any]] | None:
    for task in list(workflow.tasks.values()):
        if not task.has_state(OPEN):
            continue
        chain = _ancestry(task)
        for index, lower in enumerate(chain):
            upper = next((t for t in chain[index + 1 :] if t.task_spec is lower.task_spec), None)
            if upper is None or upper.parent is None:
                continue
            doomed = _finished_pass(top, upper, lower)
            if doomed is not None:
                return upper, lower, doomed
    return None


def _ancestry(task: Any) -> list[Any]:
    chain = []
    while task is not None:
        chain.append(task)
        task = task.parent
    return chain


def _finished_pass(top: Any, upper: Any, lower: Any) -> list[Any] | None:
    """Tasks under ``upper`` but not under ``lower``, if all of them are finished (else None)."""
    doomed = []
    stack = [upper]
    while stack:
        task = stack.pop()
        if task is lower:
            continue
        if not task.has_state(REMOVABLE):
            return None
        sub = top.subprocesses.get(task.id)
        if sub is not None and not sub.completed:
            return None
        doomed.append(task)
        stack.extend(task.children)
    return doomed


def _splice(top: Any, workflow: Any, upper: Any, lower: Any, doomed: list[Any]) -> None:
    parent = upper.parent
    parent._children[parent._children.index(upper.id)] = lower.id
    lower._parent = parent.id
    for task in doomed:
        if task.id in top.subprocesses:
            top.delete_subprocess(task)
        top.event_manager.remove_task(task)
        workflow.tasks.pop(task.id, None)
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = lower.parent
