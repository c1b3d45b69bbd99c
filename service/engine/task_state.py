"""A task's change of state without the log record nobody reads.

SpiffWorkflow's `Task._set_state` writes a log record at every change of a task's state, and builds its message and
details (the process's and the task's names, ids, state, parent and data) before the logger decides whether anyone
listens: a twentieth of an escalation's instructions went into records that were then dropped. `install` puts in its
place a change that calls SpiffWorkflow's own, record and all, when the `spiff.task` logger would write it, and
otherwise sets the state and the moment it changed, as that one does.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from SpiffWorkflow.task import Task

_LOG = logging.getLogger("spiff.task")
_logged = Task._set_state


def _set_state(task: Any, value: int) -> None:
    changes = value != task._state  # noqa: SLF001 - the attribute SpiffWorkflow's own change sets
    if _LOG.isEnabledFor(logging.INFO if changes else logging.DEBUG):
        _logged(task, value)
    elif changes:
        task.last_state_change = time.time()
        task._state = value  # noqa: SLF001


def install() -> None:
    """Change states through `_set_state` in every task of this process."""
    Task._set_state = _set_state
