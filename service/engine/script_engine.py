"""SpiffWorkflow's script engine, replaced by one that only runs restricted code."""

from __future__ import annotations

import copy
import json
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .budget import BudgetExceeded, ScriptLimits
from .errors import EngineError
from .model import EngineEvent
from .scripting import (
    DEFAULT_LIMITS,
    Decide,
    UnsafeCode,
    check_code,
    evaluate,
    run_script,
    strip_expression,
    unsafe_value,
)
from .specs import element_of, filename_of


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Also used directly by SpiffWorkflow (message correlations): never a plain eval()."""

    def __init__(self, limits: ScriptLimits = DEFAULT_LIMITS) -> None:
        super().__init__()
        self.limits = limits

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        variables = dict(external_context or {})
        variables.update(context)
        return evaluate(strip_expression(expression), variables, self.limits)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        variables = dict(external_context or {})
        variables.update(context)
        result = run_script(script, variables, self.limits)
        context.clear()
        context.update(result)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        # SpiffWorkflow's own call_service hides a connector's error as a NameError; here no connector exists at
        # all: external service tasks are parked and run by the worker, so reaching this is a plain error.
        raise RuntimeError("service tasks are parked for the worker, never called from a script")


class RestrictedScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Runs scripts and conditions restricted; carries the per-run ``decide`` and event sink."""

    def __init__(
        self, *, decide: Decide, emit: Callable[[EngineEvent], None], limits: ScriptLimits = DEFAULT_LIMITS
    ) -> None:
        super().__init__(environment=RestrictedEnvironment(limits))
        self.decide = decide
        self.emit = emit
        self.limits = limits
        #: The clock timers start from, and the moment up to which they fire (None: they do not fire at all).
        self.now: Callable[[], datetime] = _utcnow
        self.fire_until: datetime | None = None

    def validate(self, expression: str) -> None:
        check_code(strip_expression(expression), "eval")

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except Exception as err:
            detail = f"expression {expression.strip()!r} failed: {_describe(err)}"
            raise EngineError(element_of(task), filename_of(task), detail, budget=_budget(err)) from err

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        try:
            new = run_script(script, copy.deepcopy(task.data), self.limits)
        except Exception as err:
            line = _script_line(err)
            where = f" at line {line} of the script" if line else ""
            detail = f"script {'stopped' if _budget(err) else 'failed'}{where}: {_describe(err)}"
            raise EngineError(element_of(task), filename_of(task), detail, budget=_budget(err)) from err
        problem = unsafe_value(new)
        if problem:
            raise EngineError(element_of(task), filename_of(task), f"script left a bad value: {problem}")
        size = len(json.dumps(new))
        if size > self.limits.data_bytes:
            detail = f"script left {size} bytes of variables, more than the budget of {self.limits.data_bytes}"
            raise EngineError(element_of(task), filename_of(task), detail, budget=True)
        task.data = new
        return True

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        # SpiffWorkflow's default turns any connector error into a NameError; say what happened.
        detail = 'service tasks are not run inline: use camunda:type="external" with a camunda:topic'
        raise EngineError(element_of(task), filename_of(task), detail)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _budget(err: Exception) -> bool:
    return isinstance(err, BudgetExceeded)


def _describe(err: Exception) -> str:
    if isinstance(err, UnsafeCode):
        return f"refused: {err.detail}"
    if isinstance(err, BudgetExceeded):
        return err.detail
    return f"{type(err).__name__}: {err}"


def _script_line(err: Exception) -> int | None:
    if isinstance(err, UnsafeCode):
        return err.lineno
    line = None
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename == "<diagram>":
            line = frame.lineno
    return line
