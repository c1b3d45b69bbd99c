"""Load-time checks of a diagram, on the XML itself so every refusal names an element and a line.

The checks run before SpiffWorkflow sees the document; what they read (forms, topics, decisions,
assignments) is handed to the parser as ``DiagramInfo`` so nothing is read twice.
"""

from __future__ import annotations

from collections.abc import Container

from lxml import etree

from .diagram_events import EventChecks
from .diagram_model import (
    ACTIVITI,
    ALLOWED_EVENTS,
    BPMN,
    CAMUNDA,
    FLOW_NODES,
    MAPPED_TASKS,
    MULTI_INSTANCE,
    NOTHING_KNOWN,
    NS,
    PASSIVE,
    SCRIPT_FORMATS,
    UNSUPPORTED_EXTENSIONS,
    DiagramInfo,
    Known,
)
from .diagram_tasks import TaskChecks
from .errors import DiagramError
from .scripting import UnsafeCode, strip_expression

_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


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


class _Checker(EventChecks, TaskChecks):
    """Checks one process: each element by its kind (`diagram_events`, `diagram_tasks`), then its flows and what it
    calls."""

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

    def on_subProcess(self, node: etree._Element) -> None:
        """A sub-process is walked as the process is; an event sub-process starts with one event."""
        if node.get("triggeredByEvent") == "true":
            starts = node.findall("bpmn:startEvent", NS)
            if len(starts) != 1:
                raise self.fail(node, "an event sub-process needs exactly one start event")
            if starts[0].get("isInterrupting", "true") != "false":
                self.info.interrupting.add(starts[0].get("id"))
        self.container(node)

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
