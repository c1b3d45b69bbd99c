"""Task specs for the Camunda 7 dialect we read, and their serializer converters."""

from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.task_spec import (
    BpmnTaskSpecConverter,
    MultiInstanceTaskConverter,
    ScriptTaskConverter,
)
from SpiffWorkflow.bpmn.specs.defaults import (
    NoneTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
    ServiceTask,
)
from SpiffWorkflow.bpmn.specs.defaults import ScriptTask as BpmnScriptTask
from SpiffWorkflow.bpmn.specs.defaults import UserTask as BpmnUserTask
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin

from .budget import BudgetExceeded, ScriptLimits
from .diagram_model import IoMapping, IoValue, UserTaskConfig
from .errors import EngineError
from .forms import FormField
from .model import DecisionTaken
from .scripting import DEFAULT_LIMITS, has_expression, render_template, split_list, unsafe_value


def element_of(task: Any) -> str:
    """The diagram element id of a task (or its internal spec name)."""
    spec = task.task_spec
    return getattr(spec, "bpmn_id", None) or spec.name


def filename_of(task: Any) -> str | None:
    """The diagram file a task comes from."""
    return getattr(task.task_spec._wf_spec, "file", None)


def kind_of(spec: Any) -> str:
    """The BPMN tag of a task spec's element (userTask, serviceTask, exclusiveGateway...)."""
    name = type(spec).__name__
    return _KINDS.get(name) or name[:1].lower() + name[1:]


_KINDS = {
    "UserTask": "userTask",
    "ExternalTask": "serviceTask",
    "BusinessRuleTask": "businessRuleTask",
    "ScriptTask": "scriptTask",
    "PassTask": "task",
    "SubWorkflowTask": "subProcess",
    "SequentialLoop": "multiInstanceBody",
    "ParallelLoop": "multiInstanceBody",
    "EventSubprocess": "subProcess",
}


class Mapped:
    """A task with Camunda's `camunda:inputOutput`: inputs set variables as the task becomes ready (before its
    assignment, script or decision), outputs after it completes. ``io`` is set by the parser."""

    io: IoMapping | None = None
    bpmn_id: str

    def _on_ready_hook(self, my_task: Any) -> None:
        if self.io is not None:
            self._assign(my_task, self.io.inputs, "input")
        super()._on_ready_hook(my_task)  # type: ignore[misc]

    def _on_complete_hook(self, my_task: Any) -> None:
        if self.io is not None:
            self._assign(my_task, self.io.outputs, "output")
        super()._on_complete_hook(my_task)  # type: ignore[misc]

    def _assign(self, my_task: Any, parameters: tuple[tuple[str, IoValue], ...], side: str) -> None:
        for name, value in parameters:
            try:
                my_task.data[name] = _resolve(value, my_task)
            except Exception as err:
                detail = f"{side} parameter {name!r} failed: {type(err).__name__}: {err}"
                raise EngineError(
                    self.bpmn_id, filename_of(my_task), detail, budget=isinstance(err, BudgetExceeded)
                ) from err


def _resolve(value: IoValue, my_task: Any) -> Any:
    if isinstance(value, list):
        return [_resolve(item, my_task) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, my_task) for key, item in value.items()}
    return render_template(value, my_task.data, _limits(my_task)) if has_expression(value) else value


class UserTask(Mapped, BpmnUserTask):
    """A user task with Camunda assignment, form, due date and priority."""

    def __init__(self, wf_spec: Any, bpmn_id: str, config: UserTaskConfig | None = None, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.config = config or UserTaskConfig(None, None, None, None, ())

    def _on_ready_hook(self, my_task: Any) -> None:
        # Camunda evaluates assignment when the task is created; doing it here makes a bad
        # expression fail in advance() (naming this element), not later when the queue is read.
        super()._on_ready_hook(my_task)
        my_task.internal_data["assignment"] = self.assignment(my_task)

    def assignment(self, my_task: Any) -> dict[str, Any]:
        """Evaluate candidate groups, assignee, due date and priority against the task's data."""
        try:
            groups: list[str] = []
            for item in split_list(self.config.candidate_groups or ""):
                value = render_template(item, my_task.data, _limits(my_task))
                values = value if isinstance(value, (list, tuple)) else [value]
                groups.extend(str(v) for v in values if v not in (None, ""))
            users: list[str] = []
            for item in split_list(self.config.candidate_users or ""):
                value = render_template(item, my_task.data, _limits(my_task))
                values = value if isinstance(value, (list, tuple)) else [value]
                users.extend(str(v) for v in values if v not in (None, ""))
            assignee = self._text(self.config.assignee, my_task)
            due = self._text(self.config.due_date, my_task)
            priority = self._text(self.config.priority, my_task)
            return {
                "candidate_groups": groups,
                "candidate_users": users,
                "assignee": assignee or None,
                "due": due or None,
                "priority": int(priority) if priority not in (None, "") else None,
            }
        except Exception as err:
            detail = f"assignment expression failed: {type(err).__name__}: {err}"
            budget = isinstance(err, BudgetExceeded)
            raise EngineError(self.bpmn_id, filename_of(my_task), detail, budget=budget) from err

    @staticmethod
    def _text(template: str | None, my_task: Any) -> str | None:
        if not template:
            return None
        value = render_template(template, my_task.data, _limits(my_task))
        return None if value is None else str(value)


def _limits(my_task: Any) -> ScriptLimits:
    return getattr(my_task.workflow.script_engine, "limits", DEFAULT_LIMITS)


class ExternalTask(Mapped, ServiceTask):
    """A service task with ``camunda:type="external"``: parked until a worker completes it."""

    def __init__(self, wf_spec: Any, bpmn_id: str, topic: str = "", **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic
        self.manual = True  # the engine never runs it; complete_external_task does

    def _run_hook(self, my_task: Any) -> bool:
        return True  # the worker did the work; its result is already in the task's data


class BusinessRuleTask(Mapped, BpmnSpecMixin):
    """A business rule task: ``decide(decisionRef, facts)``, outcome stored in resultVariable."""

    def __init__(
        self, wf_spec: Any, bpmn_id: str, decision_ref: str = "", result_variable: str = "", **kwargs: Any
    ) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.decision_ref = decision_ref
        self.result_variable = result_variable

    def _run_hook(self, my_task: Any) -> bool:
        engine = my_task.workflow.script_engine
        facts = copy.deepcopy(dict(my_task.data))
        try:
            decision = engine.decide(self.decision_ref, facts)
            outcome, rule, version = decision.outcome, decision.rule, decision.version
        except Exception as err:
            detail = f"decision {self.decision_ref!r} failed: {type(err).__name__}: {err}"
            raise EngineError(self.bpmn_id, filename_of(my_task), detail) from err
        problem = unsafe_value(outcome) if isinstance(outcome, dict) else "the outcome is not a mapping"
        if problem:
            detail = f"decision {self.decision_ref!r} returned a bad outcome: {problem}"
            raise EngineError(self.bpmn_id, filename_of(my_task), detail)
        my_task.data[self.result_variable] = copy.deepcopy(outcome)
        used = copy.deepcopy(dict(getattr(decision, "facts", None) or {}))
        copied = frozenset(getattr(decision, "copied", None) or ())
        engine.emit(DecisionTaken(self.bpmn_id, self.decision_ref, copy.deepcopy(outcome), rule, version, used, copied))
        return True


class PassTask(Mapped, NoneTask):
    """A plain bpmn:task passes straight through, as in Camunda (SpiffWorkflow would wait on it)."""

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


class ScriptTask(Mapped, BpmnScriptTask):
    """A Python script task, with `camunda:inputOutput`."""


class _Instances:
    """Camunda's multi-instance: each instance's variables merge back, but its element variable stays its own."""

    input_item: Any

    def merge_child(self, workflow: Any, child: Any) -> None:
        if self.input_item is not None:  # before the merge: a sequential marker starts the next instance in it
            child.data.pop(self.input_item.bpmn_id, None)
        super().merge_child(workflow, child)  # type: ignore[misc]


class SequentialLoop(_Instances, SequentialMultiInstanceTask):
    """A sequential multi-instance marker: one instance at a time."""


class ParallelLoop(_Instances, ParallelMultiInstanceTask):
    """A parallel multi-instance marker: every instance at once."""


# --- converters: how the specs above are written by SpiffWorkflow's serializer ------------------


class UserTaskConverter(BpmnTaskSpecConverter):  # type: ignore[misc]
    """Converter for UserTask."""

    def to_dict(self, spec: UserTask) -> dict[str, Any]:
        dct: dict[str, Any] = self.get_default_attributes(spec)
        config = spec.config
        dct["config"] = {
            "candidate_groups": config.candidate_groups,
            "assignee": config.assignee,
            "due_date": config.due_date,
            "priority": config.priority,
            "form": [f.to_dict() for f in config.form],
            "candidate_users": config.candidate_users,
            "status": config.status,
            "sla": config.sla,
        }
        return dct

    def from_dict(self, dct: dict[str, Any]) -> UserTask:
        raw = dct.pop("config")
        form = tuple(FormField.from_dict(item) for item in raw.pop("form"))
        dct["config"] = UserTaskConfig(form=form, **raw)
        spec: UserTask = self.task_spec_from_dict(dct)
        return spec


class ExternalTaskConverter(BpmnTaskSpecConverter):  # type: ignore[misc]
    """Converter for ExternalTask."""

    def to_dict(self, spec: ExternalTask) -> dict[str, Any]:
        dct: dict[str, Any] = self.get_default_attributes(spec)
        dct["topic"] = spec.topic
        return dct


class BusinessRuleTaskConverter(BpmnTaskSpecConverter):  # type: ignore[misc]
    """Converter for BusinessRuleTask."""

    def to_dict(self, spec: BusinessRuleTask) -> dict[str, Any]:
        dct: dict[str, Any] = self.get_default_attributes(spec)
        dct["decision_ref"] = spec.decision_ref
        dct["result_variable"] = spec.result_variable
        return dct


SPEC_CONVERTERS: dict[type, type] = {
    UserTask: UserTaskConverter,
    ExternalTask: ExternalTaskConverter,
    BusinessRuleTask: BusinessRuleTaskConverter,
    PassTask: BpmnTaskSpecConverter,
    ScriptTask: ScriptTaskConverter,
    SequentialLoop: MultiInstanceTaskConverter,
    ParallelLoop: MultiInstanceTaskConverter,
}
