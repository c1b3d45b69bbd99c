"""Fault injection for worker processes started by tests: SIGKILL at a chosen point of a job or of a timer's firing.

A test puts this folder first on the worker's PYTHONPATH and sets one of the variables below; Python imports this
module at start-up, and once the target module is loaded its function is wrapped. Nothing of this lives in the
service; without a variable nothing is wrapped.

- ``FAULT_KILL_AFTER_EFFECT=<topic>``: ``service.jobs.services._do_effect`` returned for a job of that topic (the
  effect done and its record committed), before the job's task is completed; a job run in one transaction with its
  completion (a chain's) has no such moment.
- ``FAULT_KILL_IN_TIMER_STEP=1``: ``service.timers.firing`` ran a fired timer's step (``step_instance``), before its
  transaction commits.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import signal
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any


def _die(why: str) -> None:
    sys.stderr.write(f"fault injection: SIGKILL {why}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _after_effect(original: Callable[..., Any], topic: str) -> Callable[..., Any]:
    def killed_after_effect(ctx: Any, job_id: int, **kwargs: Any) -> None:
        original(ctx, job_id, **kwargs)
        from service.jobs.models import Job

        with ctx.sessions() as session:
            job = session.get(Job, job_id)
            if job is not None and job.topic == topic and job.effect_done:
                _die(f"after the effect of job {job_id} ({topic})")

    return killed_after_effect


def _in_timer_step(original: Callable[..., Any], _value: str) -> Callable[..., Any]:
    def killed_in_step(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        _die("in a timer's step, before its commit")

    return killed_in_step


#: variable -> (module, function, wrapper of that function given the variable's value)
FAULTS = {
    "FAULT_KILL_AFTER_EFFECT": ("service.jobs.services", "_do_effect", _after_effect),
    "FAULT_KILL_IN_TIMER_STEP": ("service.timers.firing", "step_instance", _in_timer_step),
}
ACTIVE = {
    module: (function, wrap, os.environ[name])
    for name, (module, function, wrap) in FAULTS.items()
    if os.environ.get(name)
}


def _wrap(module: ModuleType) -> None:
    function, wrap, value = ACTIVE[module.__name__]
    original = getattr(module, function, None)
    if original is None:  # the service changed: fail loudly rather than let a test pass without its fault
        raise RuntimeError(f"fault injection: {module.__name__}.{function} is gone")
    setattr(module, function, wrap(original, value))


class _WrapOnImport(importlib.abc.MetaPathFinder):
    """Finds a target module as usual and wraps its function once the module has run."""

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if name not in ACTIVE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        run_module = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run_module(module)
            _wrap(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if ACTIVE:
    sys.meta_path.insert(0, _WrapOnImport())
