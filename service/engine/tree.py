"""The instance's workflow, walking its task tree with a fraction of SpiffWorkflow's Python.

Every engine step looks for the ready tasks, and every task it completes for the waiting ones: each a walk of the
whole tree through SpiffWorkflow's general iterator (depth bookkeeping, a filter object, list copies at each node).
A completion makes about twenty such walks, nearly half of the engine's run of it. `Workflow` walks the same tasks
in the same order for the queries that filter by state alone (the engine's own and this service's); any other
query goes to SpiffWorkflow's iterator.

One difference: SpiffWorkflow stops descending at depth 1000 (a task below it looks absent); this walk does not
stop. The loop-back pruning keeps trees far from that depth.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState


class Workflow(BpmnWorkflow):  # type: ignore[misc]
    """A BpmnWorkflow whose walks by state are `tasks_in_state`'s."""

    def get_tasks_iterator(self, first_task: Any = None, **kwargs: Any) -> Iterator[Any]:
        if kwargs.keys() <= {"state"}:
            return tasks_in_state(first_task or self.task_tree, kwargs.get("state", TaskState.ANY_MASK), self)
        return super().get_tasks_iterator(first_task, **kwargs)  # type: ignore[no-any-return]

    def update_waiting_tasks(self) -> None:
        for task in tasks_in_state(self.task_tree, TaskState.WAITING):
            task.task_spec._update(task)  # noqa: SLF001 - as SpiffWorkflow's own update does


def tasks_in_state(root: Any, state: int, top: Any = None) -> Iterator[Any]:
    """The tasks at and below `root` with one of the `state` bits, depth first, as SpiffWorkflow's iterators give
    them: below a task only while it may have such descendants (a predicted task has no definite children, a
    definite one no finished children), each task's children read when the walk reaches it. With the `top`
    workflow, into its subprocesses too, as the BPMN iterator goes: the subprocess's tree before the task's
    children. (That iterator means to skip a finished subprocess when unfinished tasks are looked for, but its test
    compares a state with a mask no single state reaches, so it never skips one.)"""
    if state & TaskState.PREDICTED_MASK:
        lowest = TaskState.MAYBE
    elif state & TaskState.DEFINITE_MASK:
        lowest = TaskState.FUTURE
    else:
        lowest = TaskState.COMPLETED
    subprocesses = top.subprocesses if top is not None else {}
    pending = [root]
    while pending:
        task = pending.pop()
        subprocess = subprocesses.get(task.id) if subprocesses else None
        if subprocess is not None or (task._children and task._state >= lowest):  # noqa: SLF001
            tasks = task.workflow.tasks
            below = [tasks.get(child) for child in task._children]  # noqa: SLF001
            if subprocess is not None:
                below.insert(0, subprocess.task_tree)
            pending.extend(reversed(below))
        if task._state & state:  # noqa: SLF001
            yield task
