"""What a checked diagram declares (`diagram.check_diagram` fills it), and the BPMN and Camunda names the checks
read."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field

from lxml import etree

from .calls import Call
from .errors import Problem
from .forms import FormField
from .timers import TimerSpec

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
