"""Load-time checks of a diagram, on the XML itself so every refusal names an element and a line.

The checks run before SpiffWorkflow sees the document; what they read (forms, topics, decisions,
assignments) is handed to the parser as ``DiagramInfo`` so nothing is read twice.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from .errors import DiagramError
from .forms import CONSTRAINTS, FIELD_TYPES, FormField
from .scripting import Mode, UnsafeCode, check_code, has_expression, parse_template, split_list, strip_expression

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN, "camunda": CAMUNDA}

FLOW_NODES = frozenset(
    {
        "startEvent", "endEvent", "task", "userTask", "serviceTask", "scriptTask", "businessRuleTask",
        "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
        "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "subProcess",
    }
)  # fmt: skip
# Elements that may appear in a process but do not run.
PASSIVE = frozenset(
    {
        "sequenceFlow", "laneSet", "textAnnotation", "association", "group", "dataObject",
        "dataObjectReference", "dataStoreReference", "documentation", "extensionElements",
        "incoming", "outgoing", "property",
    }
)  # fmt: skip
UNSUPPORTED_EXTENSIONS = {
    "executionListener": "execution listeners are not supported",
    "taskListener": "task listeners are not supported",
    "inputOutput": "input/output mappings are not supported",
    "connector": 'connectors are not supported: use camunda:type="external" with a topic',
}
ALLOWED_EVENTS = {
    "startEvent": (),
    "endEvent": ("terminateEventDefinition",),
    "intermediateCatchEvent": ("messageEventDefinition",),
    "intermediateThrowEvent": (),
    "boundaryEvent": ("messageEventDefinition",),
}
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


@dataclass(frozen=True)
class MessageRule:
    """What a message may carry and who may send it, from its catch event's `camunda:properties`.

    `variables`: the only variables the message's data may set (nothing else is accepted); `senders`: the roles that
    may deliver it through the API (none: only the service itself, as for `sla_breach`).
    """

    variables: frozenset[str] = frozenset()
    senders: frozenset[str] = frozenset()


MESSAGE_PROPERTIES = ("variables", "senders")
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


def parse_xml(xml: bytes, filename: str) -> etree._Element:
    """Parse untrusted XML (no entities, no network)."""
    try:
        return etree.fromstring(xml, _SAFE_PARSER)
    except etree.XMLSyntaxError as err:
        raise DiagramError(filename, None, err.lineno, f"the XML does not parse: {err.msg}") from None


def check_diagram(root: etree._Element, filename: str, key: str | None = None) -> DiagramInfo:
    """Run every load-time check and collect what the parser needs (raises DiagramError)."""
    if root.tag != f"{{{BPMN}}}definitions":
        raise DiagramError(filename, None, root.sourceline, "the document is not a BPMN 2.0 <definitions>")
    process = _pick_process(root, filename, key)
    info = DiagramInfo(root=root, key=process.get("id"), name=process.get("name") or process.get("id"))
    _Checker(info, filename).container(process)
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
    def __init__(self, info: DiagramInfo, filename: str) -> None:
        self.info = info
        self.filename = filename

    def fail(self, node: etree._Element, detail: str, line: int | None = None) -> DiagramError:
        return DiagramError(self.filename, node.get("id"), line or node.sourceline, detail)

    def container(self, container: etree._Element) -> None:
        tags: dict[str, str] = {}
        for node in container:
            if not isinstance(node.tag, str) or not node.tag.startswith(f"{{{BPMN}}}"):
                continue
            tag = etree.QName(node).localname
            if tag in PASSIVE:
                continue
            if tag not in FLOW_NODES:
                raise self.fail(node, f"bpmn:{tag} is not supported by this engine")
            self.flow_node(node, tag)
            tags[node.get("id")] = tag
        for flow in container.iterfind("bpmn:sequenceFlow", NS):
            self.sequence_flow(flow, tags)

    def flow_node(self, node: etree._Element, tag: str) -> None:
        if not node.get("id"):
            raise self.fail(node, f"bpmn:{tag} without an id")
        for ext in node.iterfind("bpmn:extensionElements/*", NS):
            local = etree.QName(ext).localname
            if local in UNSUPPORTED_EXTENSIONS:
                raise self.fail(ext, UNSUPPORTED_EXTENSIONS[local])
        for marker in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
            if node.find(f"bpmn:{marker}", NS) is not None:
                raise self.fail(node, "loop markers are not supported: model the loop with a gateway")
        if tag in ALLOWED_EVENTS:
            self.event(node, tag)
        handler = getattr(self, f"on_{tag}", None)
        if handler is not None:
            handler(node)

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

    def on_subProcess(self, node: etree._Element) -> None:
        if node.get("triggeredByEvent") == "true":
            raise self.fail(node, "event sub-processes are not supported")
        self.container(node)

    def on_userTask(self, node: etree._Element) -> None:
        groups = self.attr(node, "candidateGroups")
        assignee = self.attr(node, "assignee")
        if not groups and not assignee:
            raise self.fail(node, "a user task needs camunda:candidateGroups or camunda:assignee")
        for value in (groups, assignee):
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
        self.info.user_tasks[node.get("id")] = UserTaskConfig(groups, assignee, due, priority, form)

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
            raise self.fail(node, f"script format {node.get('scriptFormat')!r} is not supported: use python")
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
            datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(node, f"camunda:dueDate {text!r} is neither an ISO date nor ${{...}}") from None

    def integer(self, node: etree._Element, text: str) -> None:
        if not text.strip().lstrip("-").isdigit():
            raise self.fail(node, f"camunda:priority {text!r} is neither a whole number nor ${{...}}")

    @staticmethod
    def attr(node: etree._Element, name: str) -> str | None:
        return node.get(f"{{{CAMUNDA}}}{name}")
