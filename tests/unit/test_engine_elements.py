"""The other BPMN elements process owners may draw: each runs as docs/process-owners.md says."""

from __future__ import annotations

import pytest

from service.engine import DiagramError, FormError, MessageRule, TaskCompleted, load_definition
from tests.unit.test_engine_helpers import process_xml

MESSAGES = '<bpmn:message id="m_go" name="go" /><bpmn:message id="m_stop" name="stop" />'


def load(body: str):
    return load_definition(process_xml(body, extra=MESSAGES), filename="elements.bpmn")


def no_decisions(ruleset, facts):
    raise AssertionError("no decision expected")


def declares(variables: str = "", senders: str = "") -> str:
    """A message catch event's declaration: the variables its data may set and the roles that may send it."""
    props = "".join(
        f'<camunda:property name="{name}" value="{value}" />'
        for name, value in (("variables", variables), ("senders", senders))
        if value
    )
    return f"<bpmn:extensionElements><camunda:properties>{props}</camunda:properties></bpmn:extensionElements>"


def flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}" />'
    return (
        f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>"
    )


def test_event_based_gateway_takes_the_first_message():
    definition = load(
        '<bpmn:startEvent id="start" /><bpmn:eventBasedGateway id="wait" />'
        '<bpmn:intermediateCatchEvent id="on_go"><bpmn:messageEventDefinition messageRef="m_go" />'
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:intermediateCatchEvent id="on_stop">'
        + declares("why")
        + '<bpmn:messageEventDefinition messageRef="m_stop" />'
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:endEvent id="went" /><bpmn:endEvent id="stopped" />'
        + flow("f1", "start", "wait")
        + flow("f2", "wait", "on_go")
        + flow("f3", "wait", "on_stop")
        + flow("f4", "on_go", "went")
        + flow("f5", "on_stop", "stopped")
    )
    run = definition.start({}, decide=no_decisions)
    run.advance()
    assert run.waiting_messages() == ["go", "stop"]
    run = definition.restore(run.serialize(), decide=no_decisions)
    assert run.send_message("stop", {"why": "cancelled"})
    events = run.advance()
    assert run.completed
    assert TaskCompleted("stopped", "endEvent") in events and TaskCompleted("went", "endEvent") not in events
    assert run.data == {"why": "cancelled"}


def test_message_boundary_event_interrupts_a_user_task():
    definition = load(
        '<bpmn:startEvent id="start" /><bpmn:userTask id="work" camunda:candidateGroups="duty" />'
        '<bpmn:boundaryEvent id="cancel" attachedToRef="work"><bpmn:messageEventDefinition messageRef="m_stop" />'
        "</bpmn:boundaryEvent>"
        '<bpmn:endEvent id="done" /><bpmn:endEvent id="cancelled" />'
        + flow("f1", "start", "work")
        + flow("f2", "work", "done")
        + flow("f3", "cancel", "cancelled")
    )
    run = definition.start({}, decide=no_decisions)
    run.advance()
    assert [t.name for t in run.user_tasks()] == ["work"]
    assert run.waiting_messages() == ["stop"]
    run = definition.restore(run.serialize(), decide=no_decisions)
    assert run.send_message("stop", {})
    events = run.advance()
    assert run.completed and run.user_tasks() == []
    assert TaskCompleted("cancelled", "endEvent") in events


def test_inclusive_gateway_takes_every_matching_flow():
    definition = load(
        '<bpmn:startEvent id="start" /><bpmn:inclusiveGateway id="fork" />'
        '<bpmn:userTask id="a" camunda:candidateGroups="x" /><bpmn:userTask id="b" camunda:candidateGroups="x" />'
        '<bpmn:userTask id="c" camunda:candidateGroups="x" /><bpmn:inclusiveGateway id="join" />'
        '<bpmn:endEvent id="end" />'
        + flow("f1", "start", "fork")
        + flow("to_a", "fork", "a", "need_a")
        + flow("to_b", "fork", "b", "need_b")
        + flow("to_c", "fork", "c", "${need_c}")
        + flow("f5", "a", "join")
        + flow("f6", "b", "join")
        + flow("f7", "c", "join")
        + flow("f8", "join", "end")
    )
    run = definition.start({"need_a": True, "need_b": False, "need_c": True}, decide=no_decisions)
    run.advance()
    tasks = {t.name: t for t in run.user_tasks()}
    assert set(tasks) == {"a", "c"}
    for task in tasks.values():
        run.complete_user_task(task.id, {})
        run.advance()
    assert run.completed


def test_milestones_and_terminate_end_events():
    definition = load(
        '<bpmn:startEvent id="start" /><bpmn:intermediateThrowEvent id="milestone" name="Logged" />'
        '<bpmn:endEvent id="stop"><bpmn:terminateEventDefinition /></bpmn:endEvent>'
        + flow("f1", "start", "milestone")
        + flow("f2", "milestone", "stop")
    )
    run = definition.start({"x": 1}, decide=no_decisions)
    events = run.advance()
    assert run.completed
    assert [(e.element_id, e.kind) for e in events if isinstance(e, TaskCompleted)] == [
        ("start", "startEvent"),
        ("milestone", "intermediateThrowEvent"),
        ("stop", "endEvent"),
    ]
    assert run.data == {"x": 1}


def _waiting_for_stop(declaration: str):
    return load(
        '<bpmn:startEvent id="start" />'
        f'<bpmn:intermediateCatchEvent id="on_stop">{declaration}<bpmn:messageEventDefinition messageRef="m_stop" />'
        '</bpmn:intermediateCatchEvent><bpmn:endEvent id="stopped" />'
        + flow("f1", "start", "on_stop")
        + flow("f2", "on_stop", "stopped")
    )


def test_message_data_sets_only_the_variables_its_event_declares():
    definition = _waiting_for_stop(declares("why, note", senders="rmc duty"))
    assert definition.message_rules == {"stop": MessageRule(frozenset({"why", "note"}), frozenset({"rmc", "duty"}))}
    run = definition.start({"team": "storage", "paid": False}, decide=no_decisions)
    run.advance()
    with pytest.raises(FormError) as refused:
        run.send_message("stop", {"why": "cancelled", "team": "servers", "paid": True})
    assert sorted(refused.value.errors) == ["paid", "team"]
    assert run.waiting_messages() == ["stop"] and run.data == {"team": "storage", "paid": False}
    assert run.send_message("stop", {"why": "cancelled"})
    run.advance()
    assert run.completed and run.data == {"team": "storage", "paid": False, "why": "cancelled"}


def test_a_message_without_a_declaration_carries_no_data():
    definition = _waiting_for_stop("")
    assert definition.message_rules == {"stop": MessageRule()}
    run = definition.start({}, decide=no_decisions)
    run.advance()
    with pytest.raises(FormError) as refused:
        run.send_message("stop", {"status": "closed"})
    assert list(refused.value.errors) == ["status"]
    assert run.send_message("stop", {})


def test_message_declarations_are_checked_at_load():
    with pytest.raises(DiagramError, match="plain identifier"):
        _waiting_for_stop(declares("__class__"))
    twice = (
        '<bpmn:startEvent id="start" /><bpmn:eventBasedGateway id="wait" />'
        f'<bpmn:intermediateCatchEvent id="a">{declares("why")}<bpmn:messageEventDefinition messageRef="m_stop" />'
        "</bpmn:intermediateCatchEvent>"
        f'<bpmn:intermediateCatchEvent id="b">{declares("team")}<bpmn:messageEventDefinition messageRef="m_stop" />'
        '</bpmn:intermediateCatchEvent><bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />'
        + flow("f1", "start", "wait")
        + flow("f2", "wait", "a")
        + flow("f3", "wait", "b")
        + flow("f4", "a", "e1")
        + flow("f5", "b", "e2")
    )
    with pytest.raises(DiagramError, match="declares other variables or senders") as refused:
        load(twice)
    assert refused.value.element_id == "b"
