"""Fault injection for worker processes started by tests: SIGKILL right after a job's side effect is recorded.

A test puts this folder first on the worker's PYTHONPATH and names a topic in ``FAULT_KILL_AFTER_EFFECT``; Python
imports this module at start-up, and once ``service.jobs.services`` is loaded its ``_do_effect`` is wrapped: when it
returns for a job of that topic (the effect done and its record committed), the process kills itself with SIGKILL,
before the job's task is completed. Nothing of this lives in the service; without the variable nothing is wrapped.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import signal
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

TOPIC = os.environ.get("FAULT_KILL_AFTER_EFFECT", "")
TARGET_MODULE, TARGET_FUNCTION = "service.jobs.services", "_do_effect"


def _wrap(module: ModuleType) -> None:
    original = getattr(module, TARGET_FUNCTION, None)
    if original is None:  # the service changed: fail loudly rather than let a test pass without its fault
        raise RuntimeError(f"fault injection: {TARGET_MODULE}.{TARGET_FUNCTION} is gone")

    def killed_after_effect(ctx: Any, job_id: int) -> None:
        original(ctx, job_id)
        from service.jobs.models import Job

        with ctx.sessions() as session:
            job = session.get(Job, job_id)
            if job is not None and job.topic == TOPIC and job.effect_done:
                sys.stderr.write(f"fault injection: SIGKILL after the effect of job {job_id} ({TOPIC})\n")
                sys.stderr.flush()
                os.kill(os.getpid(), signal.SIGKILL)

    setattr(module, TARGET_FUNCTION, killed_after_effect)


class _WrapOnImport(importlib.abc.MetaPathFinder):
    """Finds the target module as usual and wraps its function once the module has run."""

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if name != TARGET_MODULE:
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


if TOPIC:
    sys.meta_path.insert(0, _WrapOnImport())
