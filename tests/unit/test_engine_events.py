"""BPMN errors, escalations and signals: small diagrams run through the engine, as docs/process-owners.md says."""

from __future__ import annotations

import pytest

from service.engine import DiagramError, EngineError, TaskCompleted, load_definition
from tests.unit.test_engine_elements import flow, no_decisions
from tests.unit.test_engine_helpers import process_xml

ERRORS = (
    '<bpmn:error id="err_refused" name="Address refused" errorCode="mail_refused" />'
    '<bpmn:error id="err_full" name="Mailbox full" errorCode="mailbox_full" />'
)


def load(body: str, extra: str = ERRORS):
    return load_definition(process_xml(body, extra=extra), filename="events.bpmn")


def catch_error(event_id: str, attached_to: str, ref: str | None, attrs: str = "") -> str:
    """An error boundary event on `attached_to` catching the error `ref` (None: any error)."""
    ref_attr = f' errorRef="{ref}"' if ref else ""
    return (
        f'<bpmn:boundaryEvent id="{event_id}" attachedToRef="{attached_to}">'
        f"<bpmn:errorEventDefinition{ref_attr}{attrs} /></bpmn:boundaryEvent>"
    )


#: A mail service task with an error boundary for a refused address, one for any other error, and a plain path.
MAIL = (
    '<bpmn:startEvent id="start" />'
    '<bpmn:serviceTask id="mail" camunda:type="external" camunda:topic="mail.ticket_opened" />'
    + catch_error(
        "refused",
        "mail",
        "err_refused",
        ' camunda:errorCodeVariable="error_code" camunda:errorMessageVariable="error_message"',
    )
    + catch_error("other", "mail", None)
    + '<bpmn:userTask id="fix_address" camunda:candidateGroups="duty" />'
    '<bpmn:userTask id="look_into" camunda:candidateGroups="duty" />'
    '<bpmn:endEvent id="mailed" /><bpmn:endEvent id="fixed" /><bpmn:endEvent id="looked" />'
    + flow("f1", "start", "mail")
    + flow("f2", "mail", "mailed")
    + flow("f3", "refused", "fix_address")
    + flow("f4", "fix_address", "fixed")
    + flow("f5", "other", "look_into")
    + flow("f6", "look_into", "looked")
)


def started(definition):
    run = definition.start({"ticket": "SD-1"}, decide=no_decisions)
    run.advance()
    return run


def test_an_error_with_a_code_is_caught_by_the_boundary_event_of_that_code():
    definition = load(MAIL)
    run = started(definition)
    [task] = run.external_tasks()
    run = definition.restore(run.serialize(), decide=no_decisions)
    assert run.throw_bpmn_error(task.id, "mail_refused", "550 no such user", {"bounced": True}) == "refused"
    events = run.advance()
    assert run.external_tasks() == []
    assert [t.name for t in run.user_tasks()] == ["fix_address"]
    assert TaskCompleted("refused", "boundaryEvent") in events
    assert TaskCompleted("mail", "serviceTask") not in events
    data = run.data
    assert (data["error_code"], data["error_message"], data["bounced"]) == ("mail_refused", "550 no such user", True)
    run = definition.restore(run.serialize(), decide=no_decisions)
    run.complete_user_task(run.user_tasks()[0].id, {})
    assert TaskCompleted("fixed", "endEvent") in run.advance() and run.completed


def test_an_error_of_another_code_goes_to_the_catch_all_boundary_event():
    definition = load(MAIL)
    run = started(definition)
    assert run.throw_bpmn_error(run.external_tasks()[0].id, "mailbox_full") == "other"
    run.advance()
    assert [t.name for t in run.user_tasks()] == ["look_into"]
    assert "error_code" not in run.data  # only the refused-address event names variables for the code


def test_an_uncaught_error_fails_the_next_step_naming_the_task_and_the_code():
    definition = load(
        '<bpmn:startEvent id="start" />'
        '<bpmn:serviceTask id="mail" camunda:type="external" camunda:topic="mail.ticket_opened" />'
        + catch_error("refused", "mail", "err_refused")
        + '<bpmn:endEvent id="mailed" /><bpmn:endEvent id="gave_up" />'
        + flow("f1", "start", "mail")
        + flow("f2", "mail", "mailed")
        + flow("f3", "refused", "gave_up")
    )
    run = started(definition)
    [task] = run.external_tasks()
    assert run.throw_bpmn_error(task.id, "mailbox_full", "452 mailbox full") is None
    with pytest.raises(EngineError) as caught:
        run.advance()
    assert caught.value.element_id == "mail"
    assert "'mailbox_full'" in caught.value.detail and "not caught" in caught.value.detail


def test_a_completed_task_can_no_longer_throw():
    definition = load(MAIL)
    run = started(definition)
    [task] = run.external_tasks()
    run.complete_external_task(task.id, {})
    run.advance()
    assert run.completed
    with pytest.raises(Exception, match="no such task|not open|completed"):
        run.throw_bpmn_error(task.id, "mail_refused")


def test_an_error_inside_a_sub_process_is_caught_on_the_sub_process():
    definition = load(
        '<bpmn:startEvent id="start" />'
        '<bpmn:subProcess id="notify"><bpmn:startEvent id="s_start" />'
        '<bpmn:serviceTask id="mail" camunda:type="external" camunda:topic="mail.ticket_opened" />'
        '<bpmn:endEvent id="s_end" />'
        + flow("s1", "s_start", "mail")
        + flow("s2", "mail", "s_end")
        + "</bpmn:subProcess>"
        + catch_error("notify_failed", "notify", "err_refused")
        + '<bpmn:userTask id="call_client" camunda:candidateGroups="duty" />'
        '<bpmn:endEvent id="end" /><bpmn:endEvent id="called" />'
        + flow("f1", "start", "notify")
        + flow("f2", "notify", "end")
        + flow("f3", "notify_failed", "call_client")
        + flow("f4", "call_client", "called")
    )
    run = started(definition)
    [task] = run.external_tasks()
    run = definition.restore(run.serialize(), decide=no_decisions)
    assert run.throw_bpmn_error(task.id, "mail_refused") == "notify_failed"
    run.advance()
    assert run.external_tasks() == [] and [t.name for t in run.user_tasks()] == ["call_client"]


def test_an_error_end_event_in_a_sub_process_is_caught_on_it_and_uncaught_fails():
    def diagram(catches: str) -> str:
        return (
            '<bpmn:startEvent id="start" />'
            '<bpmn:subProcess id="check"><bpmn:startEvent id="s_start" />'
            '<bpmn:endEvent id="s_fail"><bpmn:errorEventDefinition errorRef="err_refused" /></bpmn:endEvent>'
            + flow("s1", "s_start", "s_fail")
            + "</bpmn:subProcess>"
            + catch_error("check_failed", "check", catches)
            + '<bpmn:endEvent id="end" /><bpmn:endEvent id="failed" />'
            + flow("f1", "start", "check")
            + flow("f2", "check", "end")
            + flow("f3", "check_failed", "failed")
        )

    run = started(load(diagram("err_refused")))
    assert run.completed and run.reached_elements()
    assert "failed" in {element.element_id for element in run.reached_elements()}
    run = load(diagram("err_full")).start({}, decide=no_decisions)
    with pytest.raises(EngineError, match="'mail_refused' is not caught"):
        run.advance()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            '<bpmn:userTask id="work" camunda:candidateGroups="duty" />' + catch_error("oops", "work", None),
            "never catches anything",
        ),
        (
            '<bpmn:serviceTask id="work" camunda:type="external" camunda:topic="t" />'
            + catch_error("oops", "work", "err_nowhere"),
            "errorRef must name a bpmn:error",
        ),
        (
            '<bpmn:serviceTask id="work" camunda:type="external" camunda:topic="t" />'
            '<bpmn:boundaryEvent id="oops" attachedToRef="work" cancelActivity="false">'
            "<bpmn:errorEventDefinition /></bpmn:boundaryEvent>",
            "always interrupts",
        ),
        (
            '<bpmn:serviceTask id="work" camunda:type="external" camunda:topic="t" />'
            + catch_error("oops", "work", None, ' camunda:errorCodeVariable="not valid"'),
            "plain identifier",
        ),
        ('<bpmn:endEvent id="oops"><bpmn:errorEventDefinition /></bpmn:endEvent>', "errorRef must name"),
    ],
)
def test_error_events_that_cannot_work_are_refused(body: str, says: str):
    with pytest.raises(DiagramError) as refused:
        load('<bpmn:startEvent id="start" />' + body)
    assert refused.value.element_id == "oops" and says in refused.value.detail


SIGNALS = (
    '<bpmn:escalation id="esc_late" name="Late" escalationCode="late" />'
    '<bpmn:escalation id="esc_other" name="Other" escalationCode="other" />'
    '<bpmn:signal id="sig_outage" name="outage" />'
    '<bpmn:message id="m_reply" name="client_replied" />'
)


def test_an_escalation_in_a_sub_process_runs_the_non_interrupting_boundary_path_beside_it():
    definition = load(
        '<bpmn:startEvent id="start" />'
        '<bpmn:subProcess id="repair"><bpmn:startEvent id="s_start" />'
        '<bpmn:intermediateThrowEvent id="raise_late"><bpmn:escalationEventDefinition escalationRef="esc_late" />'
        "</bpmn:intermediateThrowEvent>"
        '<bpmn:userTask id="fix" camunda:candidateGroups="storage" /><bpmn:endEvent id="s_end" />'
        + flow("s1", "s_start", "raise_late")
        + flow("s2", "raise_late", "fix")
        + flow("s3", "fix", "s_end")
        + "</bpmn:subProcess>"
        '<bpmn:boundaryEvent id="on_late" attachedToRef="repair" cancelActivity="false">'
        '<bpmn:escalationEventDefinition escalationRef="esc_late" /></bpmn:boundaryEvent>'
        '<bpmn:userTask id="tell_manager" camunda:candidateGroups="managers" />'
        '<bpmn:endEvent id="end" /><bpmn:endEvent id="told" />'
        + flow("f1", "start", "repair")
        + flow("f2", "repair", "end")
        + flow("f3", "on_late", "tell_manager")
        + flow("f4", "tell_manager", "told"),
        extra=SIGNALS,
    )
    run = started(definition)
    assert sorted(t.name for t in run.user_tasks()) == ["fix", "tell_manager"]


def test_an_escalation_on_an_interrupting_boundary_cancels_the_sub_process_and_an_uncaught_one_is_dropped():
    def diagram(code_ref: str) -> str:
        return (
            '<bpmn:startEvent id="start" />'
            '<bpmn:subProcess id="repair"><bpmn:startEvent id="s_start" />'
            '<bpmn:userTask id="fix" camunda:candidateGroups="storage" />'
            '<bpmn:endEvent id="s_late"><bpmn:escalationEventDefinition escalationRef="esc_late" /></bpmn:endEvent>'
            + flow("s1", "s_start", "fix")
            + flow("s2", "fix", "s_late")
            + "</bpmn:subProcess>"
            f'<bpmn:boundaryEvent id="on_late" attachedToRef="repair"><bpmn:escalationEventDefinition{code_ref} />'
            "</bpmn:boundaryEvent>"
            '<bpmn:endEvent id="end" /><bpmn:endEvent id="escalated" />'
            + flow("f1", "start", "repair")
            + flow("f2", "repair", "end")
            + flow("f3", "on_late", "escalated")
        )

    cases = ((' escalationRef="esc_late"', "escalated", "end"), ("", "escalated", "end"))
    cases += ((' escalationRef="esc_other"', "end", "escalated"),)  # not caught: the sub-process ends as drawn
    for code_ref, reached, passed_by in cases:
        run = started(load(diagram(code_ref), extra=SIGNALS))
        run.complete_user_task(run.user_tasks()[0].id, {})
        events = run.advance()
        assert run.completed and TaskCompleted(reached, "endEvent") in events
        assert TaskCompleted(passed_by, "endEvent") not in events


def test_a_signal_thrown_in_one_branch_is_caught_in_the_other():
    definition = load(
        '<bpmn:startEvent id="start" /><bpmn:parallelGateway id="fork" />'
        '<bpmn:intermediateCatchEvent id="wait_outage"><bpmn:signalEventDefinition signalRef="sig_outage" />'
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:userTask id="report" camunda:candidateGroups="duty" />'
        '<bpmn:intermediateThrowEvent id="announce"><bpmn:signalEventDefinition signalRef="sig_outage" />'
        "</bpmn:intermediateThrowEvent>"
        '<bpmn:endEvent id="heard" /><bpmn:endEvent id="announced" />'
        + flow("f1", "start", "fork")
        + flow("f2", "fork", "wait_outage")
        + flow("f3", "fork", "report")
        + flow("f4", "wait_outage", "heard")
        + flow("f5", "report", "announce")
        + flow("f6", "announce", "announced"),
        extra=SIGNALS,
    )
    run = started(definition)
    assert not run.completed
    run = definition.restore(run.serialize(), decide=no_decisions)
    run.complete_user_task(run.user_tasks()[0].id, {})
    events = run.advance()
    assert run.completed and TaskCompleted("heard", "endEvent") in events


def test_a_receive_task_waits_for_its_message_and_takes_its_declared_data():
    definition = load(
        '<bpmn:startEvent id="start" /><bpmn:receiveTask id="await_reply" messageRef="m_reply">'
        '<bpmn:extensionElements><camunda:properties><camunda:property name="variables" value="reply" />'
        "</camunda:properties></bpmn:extensionElements></bpmn:receiveTask>"
        '<bpmn:endEvent id="end" />' + flow("f1", "start", "await_reply") + flow("f2", "await_reply", "end"),
        extra=SIGNALS,
    )
    run = started(definition)
    assert run.waiting_messages() == ["client_replied"] and not run.completed
    run = definition.restore(run.serialize(), decide=no_decisions)
    assert run.send_message("client_replied", {"reply": "it works again"})
    events = run.advance()
    assert run.completed and TaskCompleted("await_reply", "receiveTask") in events
    assert run.data["reply"] == "it works again"


def test_a_message_starts_a_non_interrupting_event_sub_process_beside_the_flow():
    definition = load(
        '<bpmn:startEvent id="start" /><bpmn:userTask id="resolve" camunda:candidateGroups="storage" />'
        '<bpmn:endEvent id="end" />'
        '<bpmn:subProcess id="on_reply" triggeredByEvent="true">'
        '<bpmn:startEvent id="reply_arrived" isInterrupting="false">'
        '<bpmn:extensionElements><camunda:properties><camunda:property name="variables" value="reply" />'
        "</camunda:properties></bpmn:extensionElements>"
        '<bpmn:messageEventDefinition messageRef="m_reply" /></bpmn:startEvent>'
        '<bpmn:userTask id="read_reply" camunda:candidateGroups="storage" /><bpmn:endEvent id="read" />'
        + flow("e1", "reply_arrived", "read_reply")
        + flow("e2", "read_reply", "read")
        + "</bpmn:subProcess>"
        + flow("f1", "start", "resolve")
        + flow("f2", "resolve", "end"),
        extra=SIGNALS,
    )
    run = started(definition)
    assert run.waiting_messages() == ["client_replied"]
    run = definition.restore(run.serialize(), decide=no_decisions)
    assert run.send_message("client_replied", {"reply": "still broken"})
    run.advance()
    assert sorted(t.name for t in run.user_tasks()) == ["read_reply", "resolve"]
    run = definition.restore(run.serialize(), decide=no_decisions)
    for task in run.user_tasks():
        run.complete_user_task(task.id, {})
        run.advance()
    assert run.completed


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            '<bpmn:startEvent id="oops"><bpmn:signalEventDefinition signalRef="sig_outage" /></bpmn:startEvent>',
            "a signal start event may only start an event sub-process",
        ),
        (
            '<bpmn:startEvent id="start" /><bpmn:userTask id="work" camunda:candidateGroups="x" />'
            '<bpmn:boundaryEvent id="oops" attachedToRef="work"><bpmn:escalationEventDefinition />'
            "</bpmn:boundaryEvent>",
            "goes on a sub-process",
        ),
        (
            '<bpmn:startEvent id="start" /><bpmn:intermediateThrowEvent id="oops">'
            '<bpmn:signalEventDefinition signalRef="nowhere" /></bpmn:intermediateThrowEvent>',
            "signalRef must name a bpmn:signal",
        ),
        ('<bpmn:startEvent id="start" /><bpmn:receiveTask id="oops" />', "needs a messageRef"),
    ],
)
def test_events_that_cannot_work_are_refused(body: str, says: str):
    with pytest.raises(DiagramError) as refused:
        load(body, extra=SIGNALS)
    problems = [(problem.element_id, problem.detail) for problem in refused.value.problems]
    assert any(element in ("oops", "on") and says in detail for element, detail in problems), problems
