"""The checks of events (start, end, catch, throw and boundary events; their messages, timers, errors, escalations
and signals), of event sub-processes and of receive tasks."""

from __future__ import annotations

import keyword

from lxml import etree

from .diagram_checks import Checks, attached_tag, plain_identifier
from .diagram_model import (
    ALLOWED_EVENTS,
    ERROR_SOURCES,
    EVENT_STARTS,
    MESSAGE_PROPERTIES,
    NS,
    ErrorCatch,
    MessageRule,
)
from .timers import TimerError, TimerSpec, check_timer_event


class EventChecks(Checks):
    """The checks of events and of what waits on them."""

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
        target = attached_tag(node)
        if target not in ERROR_SOURCES:
            hint = "attach it to a service task (its adapter or worker throws the error) or a sub-process"
            raise self.fail(node, f"an error boundary event on bpmn:{target} never catches anything", hint=hint)
        if node.get("cancelActivity") == "false":
            raise self.fail(node, 'an error boundary event always interrupts: remove cancelActivity="false"')
        names = []
        for attribute in ("errorCodeVariable", "errorMessageVariable"):
            name = (self.attr(definition, attribute) or "").strip() or None
            if name is not None and not plain_identifier(name):
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
        if attached_tag(node) != "subProcess":
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

    def on_startEvent(self, node: etree._Element) -> None:
        initiator = self.attr(node, "initiator")
        if initiator is None:
            return
        if not plain_identifier(initiator.strip()):
            raise self.fail(node, "camunda:initiator must be a plain identifier (it becomes a variable)")
        self.info.initiator = initiator.strip()

    def on_receiveTask(self, node: etree._Element) -> None:
        """A receive task waits for its message, as a message catch event does."""
        name = self.message_name(node, node)
        self.info.messages.add(name)
        self.message_rule(node, name)
