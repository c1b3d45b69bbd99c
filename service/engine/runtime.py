"""A running instance of a Definition: the only object the service drives."""

from __future__ import annotations

import copy
import functools
import json
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from .bpmn_errors import catch, error_catcher, error_event, uncaught_error
from .budget import ScriptLimits
from .diagram_model import MessageRule
from .errors import EngineError, FormError, TaskNotOpen, engine_error_in
from .forms import validate_form
from .instructions import Instruction, apply_instructions
from .interrupting import interrupt, interrupted
from .migration import ReachedElement, reached, repredict
from .model import EngineEvent, ExternalTaskView, TaskCompleted, UserTaskView
from .modification import move_token, token_elements
from .pruning import OPEN, prune_loop_passes
from .scripting import DEFAULT_LIMITS, plain_data
from .specs import ExternalTask, UserTask, element_of, kind_of
from .timers import WaitingTimer, waiting_timers

if TYPE_CHECKING:
    from .definition import Definition

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# Task iteration in SpiffWorkflow stops at depth 1000 (the instance would then look completed),
# and serialising is linear in the tree: refuse to grow past these, loudly.
MAX_TASKS = 2000
MAX_DEPTH = 900


def _changes(method: F) -> F:
    """Marks a method that changes the task tree: what was read of the tree before it is read again after."""

    @functools.wraps(method)
    def changing(self: Run, *args: Any, **kwargs: Any) -> Any:
        self._seen.clear()
        try:
            return method(self, *args, **kwargs)
        finally:
            self._seen.clear()

    return changing  # type: ignore[return-value]


class Run:
    """One process instance; not thread-safe (the service locks the instance row).

    What is read of the task tree (its open tasks, whether it completed) is kept until a method that changes the tree
    runs: a step reads its tree once between changes.
    """

    max_tasks = MAX_TASKS
    max_depth = MAX_DEPTH

    def __init__(
        self, definition: Definition, workflow: Any, events: list[EngineEvent], limits: ScriptLimits = DEFAULT_LIMITS
    ) -> None:
        self.limits = limits
        self._definition = definition
        self._workflow = workflow
        self._events = events  # the script engine's business rule tasks append here too
        self._current: Any = None
        self._seen: dict[str, Any] = {}
        #: A BPMN error nothing caught: the next ``advance()`` fails with it.
        self._uncaught: EngineError | None = None
        #: The external tasks waiting when the run began, and those of them its own calls ended: the others that end
        #: in this run were cancelled (an interrupting event took their place; `cancelled_external_tasks`).
        self._waiting_external = {str(task.id) for task in self._tasks(TaskState.READY, ExternalTask)}
        self._ended_external: set[str] = set()

    # --- driving the instance -----------------------------------------------------------------

    @_changes
    def advance(self) -> list[EngineEvent]:
        """Run engine steps until the instance waits or ends; return what happened since last call."""
        self._current = None
        if self._uncaught is not None:
            raise self._uncaught
        self._guard(lambda: self._workflow.do_engine_steps(self._before_step, self._after_step))
        self._check_thrown_errors()
        # The timers refreshed last (fired up to the horizon) are ready now: run on past them.
        while self._workflow.script_engine.fire_until is not None and self._ready_to_run():
            self._guard(lambda: self._workflow.do_engine_steps(self._before_step, self._after_step))
        prune_loop_passes(self._workflow)
        self._check_size(None)
        events = list(self._events)
        self._events.clear()
        return events

    @_changes
    def complete_user_task(self, task_id: str, data: dict[str, Any]) -> None:
        """Validate ``data`` against the task's form, merge it and complete the task."""
        task = self._open_task(task_id, UserTask)
        values = validate_form(task.task_spec.config.form, data)
        task.data.update(copy.deepcopy(values))
        self._complete(task, "userTask")

    @_changes
    def complete_external_task(self, task_id: str, result: dict[str, Any]) -> None:
        """Merge a worker's result into the variables and complete the external task."""
        task = self._open_task(task_id, ExternalTask)
        task.data.update(plain_data(result, "result"))
        self._ended_external.add(str(task_id))
        self._complete(task, "serviceTask")

    @_changes
    def throw_bpmn_error(
        self, task_id: str, code: str, message: str = "", variables: dict[str, Any] | None = None
    ) -> str | None:
        """End the open external task with the BPMN error `code` (its worker or adapter could not do the work).

        The nearest error boundary event catching `code` (one with that error's code, else one catching any error) on
        the task, or on a sub-process holding it, takes over: the task is cancelled, `variables` merge into the
        variables, the event's `camunda:errorCodeVariable` / `camunda:errorMessageVariable` get the code and
        message, and its path runs on the next ``advance()``. Returns that event's element id. When nothing catches
        it, returns None and the next ``advance()`` fails (EngineError naming the task and the code), as a failing
        script would: the service turns that into an incident.
        """
        task = self._open_task(task_id, ExternalTask)
        if not isinstance(code, str) or not code.strip():
            raise ValueError("a BPMN error needs a code")
        self._ended_external.add(str(task_id))
        payload = plain_data(variables or {}, "error variables")
        catcher = error_catcher(task, code)
        if catcher is None:
            self._uncaught = self._error(task, f"the BPMN error {code!r} ({message or 'no message'}) is not caught")
            return None
        event = error_event(code, message, payload, self._definition.error_catches.get(element_of(catcher)))
        self._current = task
        self._guard(lambda: catch(catcher, event))
        return element_of(catcher)

    @_changes
    def fire_timers(self, now: datetime) -> list[str]:
        """Fire every timer due at `now` (which is also the clock new timers start from); return their task ids.

        The fired events run on the next ``advance()``. Timers never fire otherwise: ordinary steps keep them
        waiting, whatever the time, until the worker fires their due-timer rows.
        """
        engine = self._workflow.script_engine
        engine.now, engine.fire_until = (lambda: now), now
        due = [timer.id for timer in self.timers() if timer.due_at <= now]
        self._guard(self._workflow.refresh_timers)
        return due

    @_changes
    def send_message(self, name: str, data: dict[str, Any]) -> bool:
        """Deliver a message (its data merges into the variables); False if nothing waits for it.

        The data may set only the variables the message declares (`MessageRule.variables`): anything else raises
        FormError naming each field, and nothing is delivered.
        """
        payload = plain_data(data, "message data")
        if name not in self.waiting_messages():
            return False
        rule = self.message_rule(name)
        declared = rule.variables if rule is not None else frozenset()
        undeclared = sorted(set(payload) - declared)
        if undeclared:
            message = (
                f"the message {name!r} does not set this variable (it sets: {', '.join(sorted(declared)) or 'none'})"
            )
            raise FormError({field: [message] for field in undeclared})
        event = BpmnEvent(MessageEventDefinition(name), payload=payload)
        self._guard(lambda: self._workflow.send_event(event))
        return True

    @_changes
    def move_token(self, cancel: Collection[str], start_before: str) -> None:
        """Cancel the tokens at the elements `cancel` and start one before `start_before`, which runs on the next
        ``advance()`` with the variables the cancelled tasks held (ModificationRefused says why it cannot)."""
        move_token(self._workflow, cancel, start_before)

    @_changes
    def apply_instructions(self, instructions: Sequence[Instruction]) -> None:
        """Camunda's modification instructions, checked whole and applied at once: the cancels, then the starts,
        which run on the next ``advance()`` (ModificationRefused names the bad instruction's index)."""
        apply_instructions(self._workflow, instructions)

    @_changes
    def repredict(self) -> None:
        """Predict the tree's future tasks again (after its document was moved onto another version)."""
        repredict(self._workflow)

    def update_data(self, values: dict[str, Any]) -> None:
        """Overwrite variables in the open part of the instance (the service's ticket fields); no task changes state,
        so what was read of the tree stays."""
        clean = plain_data(values, "variables")
        for task in self._tasks(OPEN):
            task.data.update(copy.deepcopy(clean))
            # A waiting event re-inherits its parent's data when it fires: update that too.
            if task.parent is not None and task.has_state(TaskState.WAITING):
                task.parent.data.update(copy.deepcopy(clean))
            if isinstance(task.task_spec, UserTask) and task.state == TaskState.READY:
                try:  # the new values may change the queue; a failing expression keeps the old one
                    task.internal_data["assignment"] = task.task_spec.assignment(task)
                except EngineError:
                    pass

    # --- reading the instance -------------------------------------------------------------------

    def user_tasks(self) -> list[UserTaskView]:
        """Open user tasks, with candidate groups and assignee evaluated."""
        views = []
        for task in self._tasks(TaskState.READY, UserTask):
            spec = task.task_spec
            assignment = task.internal_data.get("assignment") or spec.assignment(task)
            views.append(
                UserTaskView(
                    id=str(task.id),
                    name=spec.bpmn_id,
                    title=spec.bpmn_name or spec.bpmn_id,
                    candidate_groups=tuple(assignment["candidate_groups"]),
                    assignee=assignment["assignee"],
                    form_fields=spec.config.form,
                    due=assignment["due"],
                    priority=assignment["priority"],
                    candidate_users=tuple(assignment.get("candidate_users") or ()),
                    status=spec.config.status,
                    sla=spec.config.sla,
                )
            )
        return views

    def external_tasks(self) -> list[ExternalTaskView]:
        """Open external service tasks, each with a copy of its variables."""
        return [
            ExternalTaskView(str(t.id), t.task_spec.bpmn_id, t.task_spec.topic, copy.deepcopy(t.data))
            for t in self._tasks(TaskState.READY, ExternalTask)
        ]

    def cancelled_external_tasks(self) -> set[str]:
        """The external tasks that were waiting when the run began and that something else ended since (a timer, a
        message, an error or an escalation interrupting them, a moved token): their jobs have nothing to complete."""
        if not self._waiting_external:
            return set()
        still = {str(task.id) for task in self._tasks(TaskState.READY, ExternalTask)}
        return self._waiting_external - still - self._ended_external

    def message_rule(self, name: str) -> MessageRule | None:
        """What the diagram declares for the message `name` (None when no event of it catches that message)."""
        return self._definition.message_rules.get(name)

    def waiting_messages(self) -> list[str]:
        """Names of the messages the instance is waiting for."""
        names = set(self._event_subprocess_messages()) if not self.completed else set()
        for task in list(self._workflow.event_manager.tasks.values()):
            if task.state != TaskState.WAITING:
                continue
            definition = task.task_spec.event_definition
            # An event-based gateway waits for any of its events at once.
            for item in getattr(definition, "event_definitions", [definition]):
                if isinstance(item, MessageEventDefinition):
                    names.add(item.name)
        return sorted(names)

    def _event_subprocess_messages(self) -> Iterator[str]:
        """The messages that start an event sub-process of the process: it waits for them as long as it runs."""
        if interrupted(self._workflow, self._definition.interrupting_starts):
            return
        for name in self._workflow.spec.start.trigger_specs:
            for start in self._workflow.subprocess_specs[name].bpmn_start_events:
                if isinstance(start.event_definition, MessageEventDefinition):
                    yield start.event_definition.name

    @property
    def has_timers(self) -> bool:
        """Whether the diagram has timer events at all (when not, ``timers()`` is always empty)."""
        return bool(self._definition.timer_elements)

    def timers(self) -> list[WaitingTimer]:
        """The timer events the instance waits on, with when each is due."""
        return waiting_timers(self._workflow)

    def token_elements(self) -> list[str]:
        """The elements the instance holds a token at (its open tasks and waiting events), each once."""
        return token_elements(self._workflow)

    def reached_elements(self) -> list[ReachedElement]:
        """The diagram elements the instance has passed or sits on."""
        return reached(self._workflow)

    @property
    def data(self) -> dict[str, Any]:
        """The variables (a copy, to keep): those of the open tasks, or the final ones once completed."""
        return copy.deepcopy(self.variables())

    def variables(self) -> dict[str, Any]:
        """The variables as the instance holds them (not copied: to read only; `data` is a copy to keep)."""
        if self.completed:
            return dict(self._workflow.data)
        merged: dict[str, Any] = {}
        open_tasks = list(self._tasks(OPEN))
        if not open_tasks and self._workflow.last_task is not None:
            open_tasks = [self._workflow.last_task]
        for task in open_tasks:
            merged.update(task.data)
        return merged

    @property
    def completed(self) -> bool:
        """True once the instance reached its end."""
        if "completed" not in self._seen:
            self._seen["completed"] = bool(self._workflow.is_completed())
        return bool(self._seen["completed"])

    @property
    def task_count(self) -> int:
        """Tasks in the instance's tree, subprocesses included (what serialising costs)."""
        return len(self._workflow.tasks) + sum(len(sp.tasks) for sp in self._workflow.subprocesses.values())

    def serialize(self) -> str:
        """The instance as a JSON document for ``Definition.restore``.

        Raises EngineError (``budget``) when its variables have grown past ``limits.data_bytes`` serialised.
        """
        size = len(json.dumps(self.variables()))
        if size > self.limits.data_bytes:
            detail = f"the instance's variables take {size} bytes, more than the budget of {self.limits.data_bytes}"
            raise EngineError(None, self._definition.filename, detail, budget=True)
        return self._definition.serializer().dumps(self._workflow)

    # --- internals ------------------------------------------------------------------------------

    def _check_thrown_errors(self) -> None:
        """Events thrown that nothing in the instance caught end up in the workflow's outgoing events, which nobody
        outside reads: an escalation or a signal is dropped (as BPMN says), an error fails here, naming its code."""
        thrown = uncaught_error(self._workflow)
        if thrown is not None:
            raise EngineError(None, self._definition.filename, f"the BPMN error {thrown.code!r} is not caught")

    def _tasks(self, state: int, spec_class: type | None = None) -> Iterator[Any]:
        """The tasks in `state` (open states only), of `spec_class` when given, from the open tasks read once."""
        assert not state & ~OPEN, "only open states are kept"
        if "open" not in self._seen:
            self._seen["open"] = list(self._workflow.get_tasks(state=OPEN))
        for task in self._seen["open"]:
            if task.has_state(state) and (spec_class is None or isinstance(task.task_spec, spec_class)):
                yield task

    def _ready_to_run(self) -> bool:
        return any(not task.task_spec.manual for task in self._workflow.get_tasks(state=TaskState.READY))

    def _open_task(self, task_id: str, spec_class: type) -> Any:
        try:
            task = self._workflow.get_task_from_id(uuid.UUID(str(task_id)))
        except (ValueError, TaskNotFoundException):
            raise TaskNotOpen(str(task_id), "no such task in this instance") from None
        if task is None or not isinstance(task.task_spec, spec_class):
            raise TaskNotOpen(str(task_id), f"not an open {spec_class.__name__}")
        if task.state != TaskState.READY:
            raise TaskNotOpen(str(task_id), f"the task is {TaskState.get_name(task.state).lower()}")
        return task

    def _complete(self, task: Any, kind: str) -> None:
        self._current = task
        self._guard(task.run)
        if task.has_state(TaskState.COMPLETED):
            self._events.append(TaskCompleted(element_of(task), kind))

    def _before_step(self, task: Any) -> None:
        self._current = task

    def _after_step(self, task: Any) -> None:
        spec = task.task_spec
        if isinstance(spec, BpmnSpecMixin) and task.has_state(TaskState.COMPLETED):
            self._events.append(TaskCompleted(spec.bpmn_id, kind_of(spec)))
            if spec.bpmn_id in self._definition.interrupting_starts:
                interrupt(task)
        self._check_size(task)

    def _check_size(self, task: Any) -> None:
        if self.task_count > self.max_tasks:
            raise self._error(task, f"instance too large: more than {self.max_tasks} tasks (an endless loop?)")
        # A tree of fewer tasks than the depth cap is not that deep: its task's depth (a walk up to the root) is
        # not looked at.
        if task is not None and self.task_count > self.max_depth and task.depth > self.max_depth:
            raise self._error(task, f"instance too large: task tree deeper than {self.max_depth} (an endless loop?)")

    def _guard(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except (EngineError, TaskNotOpen):
            raise
        except SpiffWorkflowException as err:
            cause = engine_error_in(err)
            if cause is not None:  # the library wrapped one of ours (a condition, a budget): keep what it says
                raise cause from err
            task = getattr(err, "task", None) or self._current
            raise self._error(task, str(err)) from err
        except Exception as err:
            raise self._error(self._current, f"{type(err).__name__}: {err}") from err

    def _error(self, task: Any, detail: str) -> EngineError:
        element = element_of(task) if task is not None else None
        return EngineError(element, self._definition.filename, detail)
