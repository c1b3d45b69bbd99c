"""Load-time checks of a diagram, on the XML itself so every refusal names an element and a line.

The checks run before SpiffWorkflow sees the document; what they read (forms, topics, decisions,
assignments) is handed to the parser as ``DiagramInfo`` so nothing is read twice.
"""

from __future__ import annotations

import keyword
from collections.abc import Container, Mapping
from dataclasses import dataclass, field

from lxml import etree

from .calls import Call, read_call
from .errors import DiagramError, Problem
from .forms import CONSTRAINTS, FIELD_TYPES, FormField
from .scripting import Mode, UnsafeCode, check_code, has_expression, parse_template, split_list, strip_expression
from .timers import TimerError, TimerSpec, check_timer_event, from_iso

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
#: Diagrams saved by Activiti (and old Camunda Modeler versions) use this namespace for the same attributes.
ACTIVITI = "http://activiti.org/bpmn"
NS = {"bpmn": BPMN, "camunda": CAMUNDA}

FLOW_NODES = frozenset(
    {
        "startEvent", "endEvent", "task", "userTask", "serviceTask", "scriptTask", "businessRuleTask",
        "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
        "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "subProcess", "receiveTask",
        "callActivity",
    }
)  # fmt: skip
# Elements that may appear in a process but do not run.
PASSIVE = frozenset(
    {
        "sequenceFlow", "laneSet", "textAnnotation", "association", "group", "dataObject",
        "dataObjectReference", "dataStoreReference", "documentation", "extensionElements",
        "incoming", "outgoing", "property", "multiInstanceLoopCharacteristics",
    }
)  # fmt: skip
EXTERNAL_HINT = 'use camunda:type="external" with a camunda:topic, served by an adapter'
SCRIPT_HINT = "use a Python script task"
#: Extension elements refused, with what to use instead.
UNSUPPORTED_EXTENSIONS = {
    "executionListener": (
        "execution listeners are not supported",
        "put the work in a Python script task or an external service task on the flow",
    ),
    "taskListener": (
        "task listeners are not supported",
        "set assignment with camunda:candidateGroups, camunda:candidateUsers or camunda:assignee, and do the work in"
        " a script task or an external service task after the user task",
    ),
    "connector": ("connectors are not supported", EXTERNAL_HINT),
}
#: Camunda attributes that name Java code; the engine runs none.
JAVA_ATTRIBUTES = {
    "class": "camunda:class names a Java class",
    "delegateExpression": "camunda:delegateExpression names a Java delegate",
    "expression": "camunda:expression on a service task calls Java",
}
#: The elements that may carry `camunda:inputOutput`.
MAPPED_TASKS = frozenset({"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask"})
ALLOWED_EVENTS = {
    "startEvent": ("timerEventDefinition", "messageEventDefinition", "signalEventDefinition"),
    "endEvent": (
        "terminateEventDefinition", "errorEventDefinition", "escalationEventDefinition", "signalEventDefinition",
    ),
    "intermediateCatchEvent": ("messageEventDefinition", "timerEventDefinition", "signalEventDefinition"),
    "intermediateThrowEvent": ("escalationEventDefinition", "signalEventDefinition"),
    "boundaryEvent": (
        "messageEventDefinition", "timerEventDefinition", "errorEventDefinition", "escalationEventDefinition",
        "signalEventDefinition",
    ),
}  # fmt: skip
#: Start events an event sub-process may begin with (the instance itself starts plain, or on a timer).
EVENT_STARTS = frozenset({"messageEventDefinition", "signalEventDefinition"})
#: What an error boundary event may be attached to: the activities a BPMN error can come out of.
ERROR_SOURCES = frozenset({"serviceTask", "subProcess"})
SCRIPT_FORMATS = frozenset({"", "python", "python3"})
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


@dataclass(frozen=True)
class UserTaskConfig:
    """What a user task declares: who may do it, its form, due date and priority."""

    candidate_groups: str | None
    assignee: str | None
    due_date: str | None
    priority: str | None
    form: tuple[FormField, ...]
    candidate_users: str | None = None
    #: The ticket status while the task is open, and its SLA behaviour (`SLA_VALUES`), from `camunda:properties`.
    status: str | None = None
    sla: str | None = None


@dataclass(frozen=True)
class MessageRule:
    """What a message may carry and who may send it, from its catch event's `camunda:properties`.

    `variables`: the only variables the message's data may set (nothing else is accepted); `senders`: the roles that
    may deliver it through the API (none: only the service itself, as for `sla_breach`).
    """

    variables: frozenset[str] = frozenset()
    senders: frozenset[str] = frozenset()


#: A `camunda:inputOutput` value: a text (a literal, or a template with ``${...}``), a list or a map of values.
IoValue = str | list["IoValue"] | dict[str, "IoValue"]


@dataclass(frozen=True)
class IoMapping:
    """A task's `camunda:inputOutput`: variables set before the task runs (inputs) and after it completes (outputs)."""

    inputs: tuple[tuple[str, IoValue], ...] = ()
    outputs: tuple[tuple[str, IoValue], ...] = ()


@dataclass(frozen=True)
class ErrorCatch:
    """An error boundary event: the code it catches (None: any) and the variables that get the code and message.

    The variables are Camunda's `camunda:errorCodeVariable` and `camunda:errorMessageVariable` on its
    `bpmn:errorEventDefinition`.
    """

    code: str | None = None
    code_variable: str | None = None
    message_variable: str | None = None


@dataclass(frozen=True)
class MultiInstance:
    """A multi-instance marker: one instance per item of `collection` (each with the item in `element_variable`) or
    `cardinality` instances, one after the other or side by side, until all ran or `condition` holds after one."""

    sequential: bool
    collection: str | None = None
    element_variable: str | None = None
    cardinality: str | None = None
    condition: str | None = None


#: The elements that may carry a multi-instance marker.
MULTI_INSTANCE = MAPPED_TASKS | {"subProcess", "receiveTask"}


MESSAGE_PROPERTIES = ("variables", "senders")
#: What a user task's `sla` property may say: the clocks pause while it is open (waiting for the client, or for parts
#: where the service level says so), or a person's first touch of it is the ticket's reaction.
SLA_VALUES = frozenset({"pause_client", "pause_parts", "reaction"})
#: The form field properties that give its label in a language, and that language.
LABEL_PROPERTIES = {"label_ru": "ru", "label_en": "en"}


@dataclass
class DiagramInfo:
    """The result of the checks: the process to run and what its elements declare."""

    root: etree._Element
    key: str
    name: str
    topics: dict[str, str] = field(default_factory=dict)  # element id -> topic
    decisions: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (ref, result var)
    user_tasks: dict[str, UserTaskConfig] = field(default_factory=dict)
    messages: set[str] = field(default_factory=set)
    message_rules: dict[str, MessageRule] = field(default_factory=dict)
    initiator: str | None = None  # camunda:initiator of the start event: the variable that gets the starter's name
    io: dict[str, IoMapping] = field(default_factory=dict)  # element id -> its camunda:inputOutput
    warnings: list[Problem] = field(default_factory=list)
    timers: dict[str, TimerSpec] = field(default_factory=dict)  # element id -> its timer
    errors: dict[str, ErrorCatch] = field(default_factory=dict)  # error boundary event id -> what it catches
    loops: dict[str, MultiInstance] = field(default_factory=dict)  # element id -> its multi-instance marker
    calls: dict[str, Call] = field(default_factory=dict)  # call activity id -> the process it calls
    interrupting: set[str] = field(default_factory=set)  # the start events of interrupting event sub-processes


@dataclass(frozen=True)
class Known:
    """What the service offers a diagram, checked at deployment: None where it is not checked (a stored version)."""

    topics: Container[str] | None = None
    decisions: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    #: The number of deployed versions of each process key, and the keys deployed together with the diagram.
    processes: Mapping[str, int] | None = None
    batch: frozenset[str] = frozenset()


NOTHING_KNOWN = Known()


def parse_xml(xml: bytes, filename: str) -> etree._Element:
    """Parse untrusted XML (no entities, no network); the Activiti namespace is read as Camunda's."""
    try:
        root = etree.fromstring(xml, _SAFE_PARSER)
    except etree.XMLSyntaxError as err:
        raise DiagramError(filename, None, err.lineno, f"the XML does not parse: {err.msg}") from None
    _as_camunda(root)
    return root


def _as_camunda(root: etree._Element) -> None:
    """Rename `activiti:` elements and attributes to `camunda:` in place (the two dialects share these names)."""
    old = f"{{{ACTIVITI}}}"
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag.startswith(old):
            node.tag = f"{{{CAMUNDA}}}{node.tag[len(old) :]}"
        for name in [name for name in node.attrib if name.startswith(old)]:
            node.set(f"{{{CAMUNDA}}}{name[len(old) :]}", node.attrib.pop(name))


def check_diagram(
    root: etree._Element, filename: str, key: str | None = None, known: Known = NOTHING_KNOWN
) -> DiagramInfo:
    """Run every load-time check and collect what the parser needs.

    Raises DiagramError with every problem found, in the file's order; warnings are kept in ``info.warnings``.
    """
    if root.tag != f"{{{BPMN}}}definitions":
        raise DiagramError(filename, None, root.sourceline, "the document is not a BPMN 2.0 <definitions>")
    process = _pick_process(root, filename, key)
    info = DiagramInfo(root=root, key=process.get("id"), name=process.get("name") or process.get("id"))
    checker = _Checker(info, filename, known)
    checker.container(process)
    checker.references()
    if checker.problems:
        problems = sorted(checker.problems, key=lambda problem: problem.line or 0)
        raise DiagramError(filename, None, None, "", problems=problems)
    return info


def _pick_process(root: etree._Element, filename: str, key: str | None) -> etree._Element:
    processes = [p for p in root.findall("bpmn:process", NS) if p.get("isExecutable", "true") == "true"]
    if key is not None:
        for process in processes:
            if process.get("id") == key:
                return process
        raise DiagramError(filename, key, root.sourceline, f"no executable process with id {key!r}")
    if len(processes) != 1:
        detail = f"expected exactly one executable process, found {len(processes)}"
        raise DiagramError(filename, None, root.sourceline, detail)
    return processes[0]


class _Checker:
    """Checks one process; each element's first problem is kept and the checks go on with the next element."""

    def __init__(self, info: DiagramInfo, filename: str, known: Known = NOTHING_KNOWN) -> None:
        self.info = info
        self.filename = filename
        self.known = known
        self.problems: list[Problem] = []

    def fail(self, node: etree._Element, detail: str, line: int | None = None, hint: str | None = None) -> DiagramError:
        """The problem of ``node``, named by its own id or, inside extension elements, by the element holding it."""
        return DiagramError(self.filename, _owner_id(node), line or node.sourceline, detail, hint)

    def keep(self, error: DiagramError) -> None:
        self.problems.extend(error.problems)

    def warn(self, node: etree._Element, detail: str, hint: str | None = None) -> None:
        self.info.warnings.append(Problem(_owner_id(node), node.sourceline, detail, hint))

    def container(self, container: etree._Element) -> None:
        tags: dict[str, str] = {}
        for node in container:
            if not isinstance(node.tag, str) or not node.tag.startswith(f"{{{BPMN}}}"):
                continue
            tag = etree.QName(node).localname
            if tag in PASSIVE:
                continue
            tags[node.get("id")] = tag
            try:
                if tag not in FLOW_NODES:
                    raise self.fail(node, f"bpmn:{tag} is not supported by this engine")
                self.flow_node(node, tag)
            except DiagramError as error:
                self.keep(error)
        for flow in container.iterfind("bpmn:sequenceFlow", NS):
            try:
                self.sequence_flow(flow, tags)
            except DiagramError as error:
                self.keep(error)

    def references(self) -> None:
        """Every topic and decision the process calls must be one the service offers."""
        outside = "for an outside worker, name the topic in ORCHESTRATOR_EXTERNAL_TOPICS"
        calls: list[tuple[str, str, Container[str] | None, str, str | None]] = [
            (element, topic, self.known.topics, "no adapter serves the topic", outside)
            for element, topic in self.info.topics.items()
        ]
        calls += [
            (element, ref, self.known.decisions, "no ruleset is published for the decision", None)
            for element, (ref, _) in self.info.decisions.items()
        ]
        for element, name, offered, says, hint in calls:
            if offered is not None and name not in offered:
                node = self.info.root.xpath("//*[@id=$id]", id=element)[0]
                self.keep(self.fail(node, f"{says} {name!r}", hint=hint))

    def flow_node(self, node: etree._Element, tag: str) -> None:
        if not node.get("id"):
            raise self.fail(node, f"bpmn:{tag} without an id")
        refused = False
        for ext in node.iterfind("bpmn:extensionElements/*", NS):
            local = etree.QName(ext).localname
            if local in UNSUPPORTED_EXTENSIONS:
                detail, hint = UNSUPPORTED_EXTENSIONS[local]
                self.keep(self.fail(ext, detail, hint=hint))
                refused = True
            elif local == "inputOutput" and tag not in MAPPED_TASKS:
                hint = "map variables on a task next to it, or in a script task"
                self.keep(self.fail(ext, f"input/output mappings are not supported on bpmn:{tag}", hint=hint))
                refused = True
            elif local == "inputOutput":
                try:
                    self.info.io[node.get("id")] = self.input_output(ext)
                except DiagramError as error:
                    self.keep(error)
                    refused = True
        if refused:
            return
        if node.find("bpmn:standardLoopCharacteristics", NS) is not None:
            raise self.fail(node, "loop markers are not supported: model the loop with a gateway")
        marker = node.find("bpmn:multiInstanceLoopCharacteristics", NS)
        if marker is not None and tag not in MULTI_INSTANCE:
            raise self.fail(node, f"a multi-instance marker on bpmn:{tag} is not supported")
        if marker is not None:
            self.info.loops[node.get("id")] = self.multi_instance(node, marker)
        if tag in ALLOWED_EVENTS:
            self.event(node, tag)
        handler = getattr(self, f"on_{tag}", None)
        if handler is not None:
            handler(node)

    def multi_instance(self, node: etree._Element, marker: etree._Element) -> MultiInstance:
        """Camunda's marker: `camunda:collection` (a variable, or ``${variable}``) with `camunda:elementVariable`,
        or a `loopCardinality`; a `completionCondition` is checked on each finished instance's variables."""
        collection = (self.attr(marker, "collection") or "").strip()
        element = (self.attr(marker, "elementVariable") or "").strip() or None
        texts: dict[str, str | None] = {}
        for part in ("loopCardinality", "completionCondition"):
            child = marker.find(f"bpmn:{part}", NS)
            raw = child.text if child is not None and child.text else ""
            try:
                text = strip_expression(raw)
                collection = strip_expression(collection)
            except UnsafeCode as err:
                raise self.fail(node, f"refused multi-instance expression: {err.detail}") from None
            if text:
                self.code(node, text, "eval", child.sourceline if child is not None else None)
            texts[part] = text or None
        if bool(collection) == bool(texts["loopCardinality"]):
            raise self.fail(node, "a multi-instance marker needs either camunda:collection or a loopCardinality")
        for name in (collection, element):
            if name and not _plain_identifier(name):
                raise self.fail(node, f"multi-instance variable {name!r} must be a plain identifier")
        if collection and element is None:
            raise self.fail(node, "a multi-instance marker over a collection needs camunda:elementVariable")
        sequential = marker.get("isSequential") == "true"
        return MultiInstance(
            sequential, collection or None, element, texts["loopCardinality"], texts["completionCondition"]
        )

    def event(self, node: etree._Element, tag: str) -> None:
        definitions = [child for child in node if str(child.tag).endswith("EventDefinition")]
        if len(definitions) > 1:
            raise self.fail(node, "an event may have one event definition")
        for definition in definitions:
            local = etree.QName(definition).localname
            if local not in ALLOWED_EVENTS[tag]:
                raise self.fail(node, f"{local} on bpmn:{tag} is not supported by this engine")
            if local == "messageEventDefinition":
                name = self.message_name(node, definition)
                self.info.messages.add(name)
                self.message_rule(node, name)
            if local == "timerEventDefinition":
                self.info.timers[node.get("id")] = self.timer(node, tag, definition)
            if local == "errorEventDefinition":
                self.error_event(node, tag, definition)
            if local == "escalationEventDefinition":
                self.escalation_event(node, tag, definition)
            if local == "signalEventDefinition":
                self.named_ref(node, definition, "signalRef", "signal", "name")
        self.start_event(node, tag, {etree.QName(d).localname for d in definitions})

    def start_event(self, node: etree._Element, tag: str, kinds: set[str]) -> None:
        """A signal start event begins an event sub-process, never the instance; a message start event begins either
        (the message endpoint starts a process beside the ticket flow on it: `service.processes.standalone`)."""
        if tag != "startEvent":
            return
        parent = node.getparent()
        in_event_subprocess = etree.QName(parent).localname == "subProcess" and parent.get("triggeredByEvent") == "true"
        if "signalEventDefinition" in kinds and not in_event_subprocess:
            hint = "the service starts each instance; put the event on an event sub-process to react to it"
            raise self.fail(node, "a signal start event may only start an event sub-process", hint=hint)
        if in_event_subprocess and not kinds & EVENT_STARTS:
            raise self.fail(node, "an event sub-process starts with a message or signal start event")

    def timer(self, node: etree._Element, tag: str, definition: etree._Element) -> TimerSpec:
        try:
            return check_timer_event(node, tag, definition)
        except TimerError as err:
            raise self.fail(node, str(err)) from None

    def error_event(self, node: etree._Element, tag: str, definition: etree._Element) -> None:
        """An error end event throws a code; an error boundary event catches one (or any) from what it is on."""
        code = self.named_ref(node, definition, "errorRef", "error", "errorCode", required=tag == "endEvent")
        if tag == "endEvent":
            return
        target = _attached_tag(node)
        if target not in ERROR_SOURCES:
            hint = "attach it to a service task (its adapter or worker throws the error) or a sub-process"
            raise self.fail(node, f"an error boundary event on bpmn:{target} never catches anything", hint=hint)
        if node.get("cancelActivity") == "false":
            raise self.fail(node, 'an error boundary event always interrupts: remove cancelActivity="false"')
        names = []
        for attribute in ("errorCodeVariable", "errorMessageVariable"):
            name = (self.attr(definition, attribute) or "").strip() or None
            if name is not None and not _plain_identifier(name):
                raise self.fail(node, f"camunda:{attribute} {name!r} must be a plain identifier")
            names.append(name)
        self.info.errors[node.get("id")] = ErrorCatch(code, names[0], names[1])

    def escalation_event(self, node: etree._Element, tag: str, definition: etree._Element) -> None:
        """An escalation is thrown by an event in a sub-process and caught on the sub-process's boundary."""
        self.named_ref(
            node, definition, "escalationRef", "escalation", "escalationCode", required=tag != "boundaryEvent"
        )
        if tag != "boundaryEvent":
            return
        if _attached_tag(node) != "subProcess":
            raise self.fail(node, "an escalation boundary event goes on a sub-process (its events throw escalations)")

    def named_ref(
        self,
        node: etree._Element,
        definition: etree._Element,
        ref_name: str,
        kind: str,
        key: str,
        *,
        required: bool = True,
    ) -> str | None:
        """The `key` of the `bpmn:<kind>` that `ref_name` names; refused when it names none, or none is named."""
        ref = definition.get(ref_name)
        found = next((e for e in self.info.root.iterfind(f"bpmn:{kind}", NS) if ref and e.get("id") == ref), None)
        value = (found.get(key) or "").strip() if found is not None else ""
        if (ref or required) and not value:
            raise self.fail(node, f"{ref_name} must name a bpmn:{kind} that has {key}")
        return value or None

    def message_name(self, node: etree._Element, definition: etree._Element) -> str:
        ref = definition.get("messageRef")
        message = next((m for m in self.info.root.iterfind("bpmn:message", NS) if ref and m.get("id") == ref), None)
        if message is None or not (message.get("name") or "").strip():
            raise self.fail(node, "a message event needs a messageRef to a bpmn:message with a name")
        return message.get("name").strip()

    def message_rule(self, node: etree._Element, name: str) -> None:
        values = {key: frozenset[str]() for key in MESSAGE_PROPERTIES}
        for prop in node.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS):
            key = (prop.get("name") or "").strip()
            if key not in MESSAGE_PROPERTIES:
                continue
            items = frozenset((prop.get("value") or "").replace(",", " ").split())
            if key == "variables":
                for item in sorted(items):
                    if not item.isidentifier() or keyword.iskeyword(item) or item.startswith("__"):
                        raise self.fail(prop, f"message variable {item!r} must be a plain identifier")
            values[key] = values[key] | items
        rule = MessageRule(values["variables"], values["senders"])
        earlier = self.info.message_rules.setdefault(name, rule)
        if earlier != rule:
            detail = f"another event catching the message {name!r} declares other variables or senders"
            raise self.fail(node, detail)

    def input_output(self, node: etree._Element) -> IoMapping:
        """Read input and output parameters: a text (literal or ``${...}``), a `camunda:list` or a `camunda:map`."""
        sides: dict[str, list[tuple[str, IoValue]]] = {"inputParameter": [], "outputParameter": []}
        for parameter in node:
            local = etree.QName(parameter).localname if isinstance(parameter.tag, str) else ""
            if local not in sides:
                continue
            name = (parameter.get("name") or "").strip()
            if not _plain_identifier(name):
                raise self.fail(parameter, f"input/output parameter {name!r} must be a plain identifier")
            sides[local].append((name, self.io_value(parameter)))
        return IoMapping(tuple(sides["inputParameter"]), tuple(sides["outputParameter"]))

    def io_value(self, node: etree._Element) -> IoValue:
        children = [child for child in node if isinstance(child.tag, str)]
        if not children:
            text = (node.text or "").strip()
            if has_expression(text):
                self.template(node, text)
            return text
        if len(children) > 1:
            raise self.fail(node, "a parameter, list item or map entry holds one value")
        child = children[0]
        local = etree.QName(child).localname
        if local == "list":
            return [self.io_value(item) for item in child if isinstance(item.tag, str)]
        if local == "map":
            entries: dict[str, IoValue] = {}
            for entry in child.iterfind("camunda:entry", NS):
                entries[entry.get("key") or ""] = self.io_value(entry)
            return entries
        if local == "script":
            raise self.fail(
                child, "scripts in input/output parameters are not supported", hint="use a ${...} expression"
            )
        # A value element (camunda:value in a list) holds its text.
        return self.io_value(child)

    def on_startEvent(self, node: etree._Element) -> None:
        initiator = self.attr(node, "initiator")
        if initiator is None:
            return
        if not _plain_identifier(initiator.strip()):
            raise self.fail(node, "camunda:initiator must be a plain identifier (it becomes a variable)")
        self.info.initiator = initiator.strip()

    def on_subProcess(self, node: etree._Element) -> None:
        if node.get("triggeredByEvent") == "true":
            starts = node.findall("bpmn:startEvent", NS)
            if len(starts) != 1:
                raise self.fail(node, "an event sub-process needs exactly one start event")
            if starts[0].get("isInterrupting", "true") != "false":
                self.info.interrupting.add(starts[0].get("id"))
        self.container(node)

    def on_callActivity(self, node: etree._Element) -> None:
        self.info.calls[node.get("id")] = read_call(node, self.fail, self.known.processes, self.known.batch)

    def on_receiveTask(self, node: etree._Element) -> None:
        """A receive task waits for its message, as a message catch event does."""
        name = self.message_name(node, node)
        self.info.messages.add(name)
        self.message_rule(node, name)

    def on_userTask(self, node: etree._Element) -> None:
        groups = self.attr(node, "candidateGroups")
        assignee = self.attr(node, "assignee")
        users = self.attr(node, "candidateUsers")
        if not groups and not assignee and not users:
            self.warn(
                node,
                "the user task has no camunda:candidateGroups, camunda:candidateUsers or camunda:assignee: only"
                " those who work every queue (administrators and managers) see it",
                hint="name the group whose queue it goes to",
            )
        for value in (groups, assignee, users):
            for item in split_list(value or ""):
                self.template(node, item)
        due, priority = self.attr(node, "dueDate"), self.attr(node, "priority")
        if due and has_expression(due):
            self.template(node, due)
        elif due:
            self.iso_date(node, due)
        if priority and has_expression(priority):
            self.template(node, priority)
        elif priority:
            self.integer(node, priority)
        form = tuple(
            self.form_field(f) for f in node.iterfind("bpmn:extensionElements/camunda:formData/camunda:formField", NS)
        )
        ids = [f.id for f in form]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise self.fail(node, f"duplicate form field ids: {', '.join(duplicates)}")
        status, sla = self.ticket_properties(node)
        self.info.user_tasks[node.get("id")] = UserTaskConfig(groups, assignee, due, priority, form, users, status, sla)

    def ticket_properties(self, node: etree._Element) -> tuple[str | None, str | None]:
        """The task's `status` and `sla` extension properties, checked against what the service knows."""
        values: dict[str, str] = {}
        for prop in node.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS):
            key = (prop.get("name") or "").strip()
            if key not in ("status", "sla"):
                continue
            value = (prop.get("value") or "").strip()
            statuses = self.known.statuses
            if key == "status" and statuses is not None and value not in statuses:
                hint = f"one of {', '.join(sorted(statuses))}"
                raise self.fail(prop, f"unknown ticket status {value!r}", hint=hint)
            if key == "sla" and value and value not in SLA_VALUES:
                raise self.fail(prop, f"unknown sla {value!r}", hint=f"one of {', '.join(sorted(SLA_VALUES))}, or none")
            values[key] = value
        if "status" not in values:
            self.warn(node, "the user task declares no ticket status", hint='add the extension property "status"')
        return values.get("status") or None, values.get("sla") or None

    def form_field(self, node: etree._Element) -> FormField:
        field_id = (node.get("id") or "").strip()
        if not field_id.isidentifier() or keyword.iskeyword(field_id) or field_id.startswith("__"):
            raise self.fail(node, f"form field id {field_id!r} must be a plain identifier (it becomes a variable)")
        kind = node.get("type") or "string"
        if kind not in FIELD_TYPES:
            raise self.fail(node, f"form field {field_id!r} has unknown type {kind!r}")
        values = tuple(
            (v.get("id") or "", v.get("name") or v.get("id") or "") for v in node.iterfind("camunda:value", NS)
        )
        if kind == "enum" and (not values or any(not key for key, _ in values)):
            raise self.fail(node, f"enum field {field_id!r} needs camunda:value children with ids")
        flags, limits = set(), {}
        for constraint in node.iterfind("camunda:validation/camunda:constraint", NS):
            name = constraint.get("name") or ""
            if name not in CONSTRAINTS:
                raise self.fail(constraint, f"unknown validation constraint {name!r} on field {field_id!r}")
            if name in ("required", "readonly"):
                flags.add(name)
                continue
            try:
                limits[name] = float(constraint.get("config") or "")
            except ValueError:
                raise self.fail(constraint, f"constraint {name!r} needs a number as config") from None
        label = node.get("label") or field_id
        return FormField(
            field_id,
            label,
            kind,
            "required" in flags,
            "readonly" in flags,
            values,
            node.get("defaultValue"),
            limits,
            self.field_labels(node),
        )

    def field_labels(self, node: etree._Element) -> tuple[tuple[str, str], ...]:
        """A form field's label per language: its `camunda:property` `label_ru` / `label_en` (named by `id`, as the
        Camunda modeler writes a field's properties, or by `name`)."""
        labels = {}
        for prop in node.iterfind("camunda:properties/camunda:property", NS):
            key = prop.get("id") or prop.get("name") or ""
            if key in LABEL_PROPERTIES:
                text = (prop.get("value") or "").strip()
                if not text:
                    raise self.fail(prop, f"the {key} of form field {node.get('id')!r} is empty")
                labels[LABEL_PROPERTIES[key]] = text
        return tuple(sorted(labels.items()))

    def on_serviceTask(self, node: etree._Element) -> None:
        topic = (self.attr(node, "topic") or "").strip()
        for name, detail in JAVA_ATTRIBUTES.items():
            if self.attr(node, name) is not None:
                raise self.fail(node, f"{detail}: this engine runs no Java", hint=EXTERNAL_HINT)
        if self.attr(node, "type") != "external":
            raise self.fail(node, 'a service task must be camunda:type="external" with a camunda:topic')
        if not topic or has_expression(topic):
            raise self.fail(node, "an external service task needs a literal camunda:topic")
        self.info.topics[node.get("id")] = topic

    def on_businessRuleTask(self, node: etree._Element) -> None:
        ref = (self.attr(node, "decisionRef") or "").strip()
        result = (self.attr(node, "resultVariable") or "").strip()
        if not ref or has_expression(ref):
            raise self.fail(node, "a business rule task needs a literal camunda:decisionRef")
        if not result.isidentifier() or keyword.iskeyword(result) or result.startswith("__"):
            raise self.fail(node, "a business rule task needs camunda:resultVariable, a plain identifier")
        self.info.decisions[node.get("id")] = (ref, result)

    def on_scriptTask(self, node: etree._Element) -> None:
        if (node.get("scriptFormat") or "").strip().lower() not in SCRIPT_FORMATS:
            detail = f"script format {node.get('scriptFormat')!r} is not supported"
            raise self.fail(node, detail, hint=SCRIPT_HINT)
        if self.attr(node, "resource"):
            raise self.fail(node, "external script resources are not supported")
        script = node.find("bpmn:script", NS)
        if script is None or not (script.text or "").strip():
            raise self.fail(node, "a script task needs a script")
        self.code(node, script.text or "", "exec", script.sourceline)

    def sequence_flow(self, node: etree._Element, tags: dict[str, str]) -> None:
        for end in ("sourceRef", "targetRef"):
            if node.get(end) not in tags:
                raise self.fail(node, f"the sequence flow's {end} {node.get(end)!r} is not an element beside it")
        condition = node.find("bpmn:conditionExpression", NS)
        if condition is None:
            return
        if tags[node.get("sourceRef")] not in ("exclusiveGateway", "inclusiveGateway"):
            raise self.fail(node, "only flows leaving an exclusive or inclusive gateway may have a condition")
        if (condition.get("language") or "python").lower() not in SCRIPT_FORMATS - {""}:
            raise self.fail(node, f"condition language {condition.get('language')!r} is not supported")
        raw = condition.text or ""
        line = (condition.sourceline or node.sourceline) + raw.count("\n", 0, len(raw) - len(raw.lstrip()))
        try:
            text = strip_expression(raw)
        except UnsafeCode as err:
            raise self.fail(node, f"refused condition {raw.strip()!r}: {err.detail}", line) from None
        if not text:
            raise self.fail(node, "empty condition")
        self.code(node, text, "eval", line)

    def code(self, node: etree._Element, source: str, mode: Mode, line: int | None) -> None:
        try:
            check_code(source, mode)
        except UnsafeCode as err:
            at = (line or node.sourceline) + (err.lineno - 1 if err.lineno else 0)
            where = f" (line {err.lineno} of the code)" if err.lineno else ""
            raise self.fail(node, f"refused code{where}: {err.detail}", at) from None

    def template(self, node: etree._Element, text: str) -> None:
        try:
            parse_template(text)
        except UnsafeCode as err:
            raise self.fail(node, f"refused expression {text!r}: {err.detail}") from None

    def iso_date(self, node: etree._Element, text: str) -> None:
        try:
            from_iso(text)
        except ValueError:
            raise self.fail(node, f"camunda:dueDate {text!r} is neither an ISO date nor ${{...}}") from None

    def integer(self, node: etree._Element, text: str) -> None:
        if not text.strip().lstrip("-").isdigit():
            raise self.fail(node, f"camunda:priority {text!r} is neither a whole number nor ${{...}}")

    @staticmethod
    def attr(node: etree._Element, name: str) -> str | None:
        return node.get(f"{{{CAMUNDA}}}{name}")


def _attached_tag(node: etree._Element) -> str | None:
    """The BPMN tag of the element a boundary event is attached to (None when it names none beside it)."""
    attached = node.getparent().find(f"*[@id='{node.get('attachedToRef')}']")
    return etree.QName(attached).localname if attached is not None else None


def _plain_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__")


def _owner_id(node: etree._Element) -> str | None:
    """The id of ``node``, or of the nearest element holding it (a form field's, a listener's task)."""
    while node is not None:
        if node.get("id") and not _inside_extensions(node):
            return str(node.get("id"))
        node = node.getparent()
    return None


def _inside_extensions(node: etree._Element) -> bool:
    return any(etree.QName(parent).localname == "extensionElements" for parent in node.iterancestors())
