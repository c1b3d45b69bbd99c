"""Interrupting event sub-processes: when one starts, the rest of the process ends and it runs alone."""

from __future__ import annotations

from service.engine import load_definition
from tests.unit.test_engine_elements import flow, no_decisions
from tests.unit.test_engine_helpers import process_xml

MESSAGES = (
    '<bpmn:message id="m_cancel" name="client_cancelled" />'
    '<bpmn:message id="m_note" name="client_wrote" />'
    '<bpmn:signal id="sig_outage" name="outage" />'
)


def event_subprocess(sub_id: str, start: str, definition: str, task: str, *, interrupting: bool) -> str:
    flag = "" if interrupting else ' isInterrupting="false"'
    return (
        f'<bpmn:subProcess id="{sub_id}" triggeredByEvent="true"><bpmn:startEvent id="{start}"{flag}>{definition}'
        f'</bpmn:startEvent><bpmn:userTask id="{task}" camunda:candidateGroups="duty" />'
        f'<bpmn:endEvent id="{task}_done" />'
        + flow(f"{sub_id}_1", start, task)
        + flow(f"{sub_id}_2", task, f"{task}_done")
        + "</bpmn:subProcess>"
    )


#: A task with a reminder timer on it, a non-interrupting sub-process for notes and an interrupting one on cancel.
BODY = (
    '<bpmn:startEvent id="start" /><bpmn:userTask id="resolve" camunda:candidateGroups="storage" />'
    '<bpmn:boundaryEvent id="remind" attachedToRef="resolve" cancelActivity="false">'
    "<bpmn:timerEventDefinition><bpmn:timeDuration>PT4H</bpmn:timeDuration></bpmn:timerEventDefinition>"
    '</bpmn:boundaryEvent><bpmn:userTask id="chase" camunda:candidateGroups="storage" />'
    '<bpmn:endEvent id="chased" /><bpmn:endEvent id="end" />'
    + flow("f1", "start", "resolve")
    + flow("f2", "resolve", "end")
    + flow("f3", "remind", "chase")
    + flow("f4", "chase", "chased")
    + event_subprocess(
        "on_note", "note_came", '<bpmn:messageEventDefinition messageRef="m_note" />', "read_note", interrupting=False
    )
    + event_subprocess(
        "on_cancel",
        "cancel_came",
        '<bpmn:messageEventDefinition messageRef="m_cancel" />',
        "wrap_up",
        interrupting=True,
    )
)


def started():
    definition = load_definition(process_xml(BODY, extra=MESSAGES), filename="interrupting.bpmn")
    run = definition.start({}, decide=no_decisions)
    run.advance()
    return definition, run


def names(run) -> list[str]:
    return sorted(task.name for task in run.user_tasks())


def test_an_interrupting_event_sub_process_ends_the_flow_and_the_other_event_sub_processes():
    definition, run = started()
    assert run.send_message("client_wrote", {})
    run.advance()
    assert names(run) == ["read_note", "resolve"] and len(run.timers()) == 1
    assert run.waiting_messages() == ["client_cancelled", "client_wrote"]
    run = definition.restore(run.serialize(), decide=no_decisions)
    assert run.send_message("client_cancelled", {})
    run.advance()
    assert names(run) == ["wrap_up"]
    assert run.timers() == [] and run.waiting_messages() == [] and not run.completed
    run = definition.restore(run.serialize(), decide=no_decisions)
    assert names(run) == ["wrap_up"] and not run.send_message("client_wrote", {})
    run.complete_user_task(run.user_tasks()[0].id, {})
    run.advance()
    assert run.completed and run.token_elements() == []


def test_a_non_interrupting_one_leaves_the_flow_running():
    definition, run = started()
    assert run.send_message("client_wrote", {})
    run.advance()
    run.complete_user_task(next(t.id for t in run.user_tasks() if t.name == "read_note"), {})
    run.advance()
    assert names(run) == ["resolve"] and run.waiting_messages() == ["client_cancelled", "client_wrote"]
    run.complete_user_task(run.user_tasks()[0].id, {})
    run.advance()
    assert run.completed


def test_a_signal_thrown_by_the_flow_starts_an_interrupting_one_and_the_flow_goes_no_further():
    body = (
        '<bpmn:startEvent id="start" /><bpmn:userTask id="check" camunda:candidateGroups="storage" />'
        '<bpmn:intermediateThrowEvent id="raise_outage"><bpmn:signalEventDefinition signalRef="sig_outage" />'
        '</bpmn:intermediateThrowEvent><bpmn:userTask id="repair" camunda:candidateGroups="storage" />'
        '<bpmn:endEvent id="end" />'
        + flow("f1", "start", "check")
        + flow("f2", "check", "raise_outage")
        + flow("f3", "raise_outage", "repair")
        + flow("f4", "repair", "end")
        + event_subprocess(
            "on_outage",
            "outage",
            '<bpmn:signalEventDefinition signalRef="sig_outage" />',
            "call_all",
            interrupting=True,
        )
    )
    definition = load_definition(process_xml(body, extra=MESSAGES), filename="outage.bpmn")
    run = definition.start({}, decide=no_decisions)
    run.advance()
    run.complete_user_task(run.user_tasks()[0].id, {})
    run.advance()
    assert names(run) == ["call_all"]
    run = definition.restore(run.serialize(), decide=no_decisions)
    run.complete_user_task(run.user_tasks()[0].id, {})
    run.advance()
    assert run.completed
