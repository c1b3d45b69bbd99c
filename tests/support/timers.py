"""Copies of the default flow with timer events, for the timer tests and the timer benchmark."""

from __future__ import annotations

from lxml import etree

from tests.support.diagrams import BPMN, CAMUNDA, insert_step, ticket_xml


def timer(kind: str, text: str) -> str:
    """A timerEventDefinition of `kind` (timeDate, timeDuration, timeCycle) with `text`."""
    return f"<bpmn:timerEventDefinition><bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition>"


#: What a timer on `clarify` leads to: interrupting, a manager's task that goes on as clarify would; not, a note.
LATE = (
    '<bpmn:userTask id="clarify_late" name="Clarify, late" camunda:candidateGroups="managers" />'
    '<bpmn:sequenceFlow id="flow_late" sourceRef="clarify_late" targetRef="entitlement" />'
)
REMIND = (
    '<bpmn:scriptTask id="clarify_late" scriptFormat="python"><bpmn:script>reminded = True</bpmn:script>'
    '</bpmn:scriptTask><bpmn:endEvent id="reminded" />'
    '<bpmn:sequenceFlow id="flow_late" sourceRef="clarify_late" targetRef="reminded" />'
)
PAUSE = '<bpmn:intermediateCatchEvent id="cool_down">{}</bpmn:intermediateCatchEvent>'
SET_PAUSE = (
    '<bpmn:scriptTask id="set_pause" scriptFormat="python"><bpmn:script>pause = "PT15M"</bpmn:script></bpmn:scriptTask>'
)


def with_boundary(*, interrupting: bool, duration: str = "PT4H") -> bytes:
    """The default flow with a timer on `clarify` (see LATE and REMIND)."""
    root = etree.fromstring(ticket_xml())
    process = root.find(f"{{{BPMN}}}process")
    assert process is not None
    cancel = "" if interrupting else ' cancelActivity="false"'
    parts = (
        f'<bpmn:boundaryEvent id="clarify_timer" attachedToRef="clarify"{cancel}>{timer("timeDuration", duration)}'
        "</bpmn:boundaryEvent>"
        f"{LATE if interrupting else REMIND}"
        '<bpmn:sequenceFlow id="flow_timer" sourceRef="clarify_timer" targetRef="clarify_late" />'
    )
    wrapper = etree.fromstring(f'<wrap xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}">{parts}</wrap>')
    for node in list(wrapper):
        process.append(node)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_timer_on_folder(duration: str = "PT1M") -> bytes:
    """The default flow with an interrupting timer on the `create_folder` service task, going on without the folder
    to the client's mail, as the task would."""
    root = etree.fromstring(ticket_xml())
    process = root.find(f"{{{BPMN}}}process")
    assert process is not None
    parts = (
        f'<bpmn:boundaryEvent id="folder_timer" attachedToRef="create_folder">{timer("timeDuration", duration)}'
        "</bpmn:boundaryEvent>"
        '<bpmn:sequenceFlow id="flow_folder_timer" sourceRef="folder_timer" targetRef="mail_ticket_opened" />'
    )
    for node in etree.fromstring(f'<wrap xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}">{parts}</wrap>'):
        process.append(node)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_pause_first(duration: str) -> bytes:
    """The default flow waiting `duration` on an intermediate timer before anything else."""
    step = PAUSE.format(timer("timeDuration", duration))
    return insert_step(ticket_xml(), after="start", step=step)
