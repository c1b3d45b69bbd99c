"""Loading a diagram into a Definition, and starting or restoring its instances."""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import migration
from .budget import ScriptLimits
from .calls import Call
from .diagram import check_diagram, parse_xml
from .diagram_model import NOTHING_KNOWN, DiagramInfo, ErrorCatch, Known, MessageRule
from .errors import DiagramError, EngineError, Problem
from .migration import DefinitionChanges
from .model import EngineEvent
from .parser import DialectParser
from .runtime import Run
from .script_engine import RestrictedScriptEngine
from .scripting import DEFAULT_LIMITS, Decide, plain_data
from .serializer import InstanceSerializer, SpecMismatch
from .starts import StartTrigger, pass_start_events, start_triggers
from .tree import Workflow


class Definition:
    """A checked, parsed diagram: immutable, shared by all its instances and threads."""

    def __init__(self, info: DiagramInfo, filename: str, spec: Any, subprocess_specs: dict[str, Any]) -> None:
        self.key: str = info.key
        self.name: str = info.name
        self.filename = filename
        self.topics: frozenset[str] = frozenset(info.topics.values())
        self.decision_refs: frozenset[str] = frozenset(ref for ref, _ in info.decisions.values())
        self.user_tasks: frozenset[str] = frozenset(info.user_tasks)
        #: Per user task: the ticket status while it is open, and its SLA behaviour (`pause_client`, `pause_parts`,
        #: `reaction`), from its extension properties; tasks that declare none are left out.
        self.task_statuses: dict[str, str] = {k: c.status for k, c in info.user_tasks.items() if c.status}
        self.task_sla: dict[str, str] = {k: c.sla for k, c in info.user_tasks.items() if c.sla}
        #: What deserves the process owner's attention but does not stop the diagram from running.
        self.warnings: tuple[Problem, ...] = tuple(info.warnings)
        self.initiator: str | None = info.initiator
        self.messages: frozenset[str] = frozenset(info.messages)
        #: Per message: the variables its data may set and the roles that may send it (see `MessageRule`).
        self.message_rules: dict[str, MessageRule] = dict(info.message_rules)
        #: The elements that wait on a timer (the due-timer table is kept only for instances of such diagrams).
        self.timer_elements: frozenset[str] = frozenset(info.timers)
        #: Per error boundary event: the code it catches and the variables that get the code and message.
        self.error_catches: dict[str, ErrorCatch] = dict(info.errors)
        #: The start events of interrupting event sub-processes: the scope's other work ends when one starts.
        self.interrupting_starts: frozenset[str] = frozenset(info.interrupting)
        #: The process's own start events: plain, on a timer or on a message (`service.engine.starts`).
        self.start_events: tuple[StartTrigger, ...] = start_triggers(info.root, info.key, info.timers)
        #: Which element calls which topic and which decision, and the XML line of every element.
        self.topic_elements: dict[str, str] = dict(info.topics)
        self.decision_elements: dict[str, str] = {element: ref for element, (ref, _) in info.decisions.items()}
        self.lines: dict[str, int] = {
            node.get("id"): node.sourceline for node in info.root.iter() if isinstance(node.tag, str) and node.get("id")
        }
        #: The processes its call activities run (theirs too), by key (each a deployed version, bound at deployment).
        self.called: dict[str, Definition] = {}
        #: What the definition runs: its diagram and the called ones (set by `load_definition`).
        self.identity = ""
        self._spec = spec
        self._subprocess_specs = subprocess_specs
        self._local = threading.local()
        self._elements: dict[str, Any] | None = None

    def start(
        self,
        data: dict[str, Any],
        *,
        decide: Decide,
        limits: ScriptLimits = DEFAULT_LIMITS,
        starter: str | None = None,
        triggered: bool = False,
    ) -> Run:
        """A new instance with ``data`` as its variables; nothing runs until ``advance()``.

        ``limits`` are the CPU and memory budget of each script and expression, and the size budget of the data;
        ``starter`` is who starts it, set in the start event's `camunda:initiator` variable when it names one.
        ``triggered``: its start event's timer or message has happened (a process beside the ticket flow).
        """
        variables = plain_data(data, "start data")
        if self.initiator and starter is not None:
            variables[self.initiator] = starter
        events: list[EngineEvent] = []
        engine = RestrictedScriptEngine(decide=decide, emit=events.append, limits=limits)
        workflow = Workflow(self._spec, copy.copy(self._subprocess_specs), script_engine=engine)
        workflow.task_tree.data = variables
        if triggered:
            pass_start_events(workflow)
        return Run(self, workflow, events, limits)

    def restore(self, document: str, *, decide: Decide, limits: ScriptLimits = DEFAULT_LIMITS) -> Run:
        """The instance serialised in ``document`` (by ``Run.serialize``)."""
        try:
            workflow = self.serializer().loads(document)
        except SpecMismatch as err:
            raise EngineError(None, self.filename, str(err)) from None
        except (ValueError, KeyError, TypeError, SpiffWorkflowException) as err:
            raise EngineError(None, self.filename, f"unreadable instance document: {err!r}") from err
        events: list[EngineEvent] = []
        workflow.script_engine = RestrictedScriptEngine(decide=decide, emit=events.append, limits=limits)
        return Run(self, workflow, events, limits)

    def adopt(self, document: str, *, decide: Decide, limits: ScriptLimits = DEFAULT_LIMITS) -> Run:
        """An instance of another version of this process, moved onto this one (see ``migration_problems``).

        Raises MigrationRefused when the instance has passed or sits on a step this version lacks.
        """
        try:
            document = migration.prepare(document, self._spec, self._subprocess_specs)
        except SpecMismatch as err:
            raise EngineError(None, self.filename, str(err)) from None
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise EngineError(None, self.filename, f"unreadable instance document: {err!r}") from err
        run = self.restore(document, decide=decide, limits=limits)
        run.repredict()
        return run

    def migration_problems(self, run: Run) -> list[str]:
        """Why ``run`` (an instance of another version) cannot move onto this version; empty when it can."""
        return migration.problems(run._workflow, self.elements())

    def changes_from(self, other: Definition) -> DefinitionChanges:
        """Elements added, removed and changed from ``other`` (an older or newer version) to this one."""
        return migration.compare(other.elements(), self.elements())

    def elements(self) -> dict[str, Any]:
        """The diagram's elements (their task specs) by element id."""
        if self._elements is None:
            self._elements = migration.elements_of(self._spec, self._subprocess_specs)
        return self._elements

    def serializer(self) -> InstanceSerializer:
        """This thread's serializer for instances of this definition."""
        serializer: InstanceSerializer | None = getattr(self._local, "serializer", None)
        if serializer is None:
            serializer = self._local.serializer = InstanceSerializer(self._spec, self._subprocess_specs)
        return serializer

    def __repr__(self) -> str:
        return f"<Definition {self.key!r} from {self.filename!r}>"

    def include(self, called: Definition) -> None:
        """Take in a called process (before any instance runs): its specs, and what its elements declare."""
        self.called[called.key] = called
        for nested in called.called.values():
            self.called.setdefault(nested.key, nested)
        self._subprocess_specs[called.key] = called._spec
        self._subprocess_specs.update(called._subprocess_specs)
        self.topics |= called.topics
        self.decision_refs |= called.decision_refs
        self.user_tasks |= called.user_tasks
        self.timer_elements |= called.timer_elements
        self.messages |= called.messages
        merged: tuple[tuple[dict[str, Any], dict[str, Any]], ...] = (
            (self.task_statuses, called.task_statuses),
            (self.task_sla, called.task_sla),
            (self.message_rules, called.message_rules),
            (self.error_catches, called.error_catches),
            (self.topic_elements, called.topic_elements),
            (self.decision_elements, called.decision_elements),
            (self.lines, called.lines),
        )
        for mine, theirs in merged:
            for name, value in theirs.items():
                mine.setdefault(name, value)

    def clashes(self, called: Definition) -> list[str]:
        """The elements of a called process that would be taken for this one's: tasks, timers and error events
        are found by element id, so a called process may not reuse the caller's ids for them."""
        mine = self.user_tasks | set(self.topic_elements) | self.timer_elements | set(self.error_catches)
        theirs = called.user_tasks | set(called.topic_elements) | called.timer_elements | set(called.error_catches)
        return sorted(mine & theirs)


def load_definition(
    xml: bytes,
    *,
    filename: str,
    key: str | None = None,
    known: Known = NOTHING_KNOWN,
    resolve: Callable[[Call], Definition | None] | None = None,
) -> Definition:
    """Parse and check one diagram (raises DiagramError listing every problem: element, line, reason, hint).

    ``key`` picks the executable process when the file holds more than one; ``known`` is what the service offers
    (topics, decisions, ticket statuses, deployed processes), checked at deployment; ``resolve`` gives the deployed
    version each call activity runs (see ``calls``).
    """
    root = parse_xml(xml, filename)
    info = check_diagram(root, filename, key, known)
    parser = DialectParser(info)
    try:
        parser.add_bpmn_xml(root, filename)
        spec = parser.get_spec(info.key)
        subprocess_specs = parser.get_subprocess_specs(info.key, require_call_activity_specs=not info.calls)
    except ValidationException as err:
        element = err.id or None
        raise DiagramError(filename, element, _line_of(root, element) or root.sourceline, _message(err)) from None
    except Exception as err:  # noqa: BLE001 - whatever SpiffWorkflow raises becomes a problem, never a raw error
        element = getattr(err, "id", None) or None
        line = _line_of(root, element) or root.sourceline
        raise DiagramError(filename, element, line, f"the engine cannot read the diagram: {_message(err)}") from None
    definition = Definition(info, filename, spec, {k: v for k, v in subprocess_specs.items() if v is not None})
    if info.calls:
        include_calls(definition, info, filename, resolve)
    called = "".join(sorted(c.identity for c in definition.called.values()))
    definition.identity = hashlib.sha256(xml + called.encode()).hexdigest()
    return definition


def include_calls(
    definition: Definition, info: DiagramInfo, filename: str, resolve: Callable[[Call], Definition | None] | None
) -> None:
    """Take in the process each call activity runs; a clash of versions or element ids is refused."""
    problems = []
    for element, call in info.calls.items():
        line = _line_of(info.root, element)
        called = resolve(call) if resolve is not None else None
        if called is None:
            problems.append(Problem(element, line, f"the process {call.key!r} it calls is not deployed"))
            continue
        brought = {called.key: called, **called.called}
        twice = [
            key
            for key, one in brought.items()
            if key in definition.called and definition.called[key].identity != one.identity
        ]
        clashes = definition.clashes(called) if called.key not in definition.called else []
        if twice or definition.key in brought:
            detail = f"the diagram would run two versions of process {(twice or [definition.key])[0]!r}, or call itself"
            problems.append(Problem(element, line, detail, "call one version of each process"))
        elif clashes:
            hint = "give the called process's elements other ids"
            detail = f"the called process {called.key!r} reuses the element ids {', '.join(clashes)}"
            problems.append(Problem(element, line, detail, hint))
        else:
            definition.include(called)
    if problems:
        raise DiagramError(filename, None, None, "", problems=problems)


def _line_of(root: Any, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def _message(err: Exception) -> str:
    text = str(err.args[0]) if err.args else str(err)
    return text.replace("\n", " ").strip()
