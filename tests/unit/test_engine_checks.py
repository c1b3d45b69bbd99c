"""The diagram check tells every problem at once, reads Camunda's extensions and refuses Java and Groovy with a hint."""

from __future__ import annotations

import pytest

from service.engine import DiagramError, Known, load_definition
from tests.unit.test_engine_helpers import linear

USER = '<bpmn:userTask id="{id}" camunda:candidateGroups="duty" />'


def refused(xml: bytes, known: Known | None = None) -> DiagramError:
    with pytest.raises(DiagramError) as caught:
        load_definition(xml, filename="bad.bpmn", known=known or Known())
    return caught.value


def line_of(xml: bytes, marker: str) -> int:
    text = xml.decode()
    return text[: text.index(marker)].count("\n") + 1


def no_decision(ruleset: str, facts: dict) -> None:
    raise AssertionError("no decision in these diagrams")


def test_five_problems_come_in_one_error_in_the_files_order():
    xml = linear(
        '<bpmn:userTask id="e1" camunda:assignee="${owner" />',
        '<bpmn:serviceTask id="e2" camunda:class="com.acme.Mailer" />',
        '<bpmn:scriptTask id="e3" scriptFormat="groovy"><bpmn:script>x</bpmn:script></bpmn:scriptTask>',
        '<bpmn:task id="e4"><bpmn:extensionElements><camunda:taskListener event="create" /></bpmn:extensionElements>'
        "</bpmn:task>",
        '<bpmn:scriptTask id="e5"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>',
    )
    err = refused(xml)
    assert [p.element_id for p in err.problems] == ["e1", "e2", "e3", "e4", "e5"]
    assert [p.line for p in err.problems] == [line_of(xml, f'id="e{i}"') for i in range(1, 6)]
    assert all(p.detail for p in err.problems)
    assert (err.element_id, err.line) == ("e1", err.problems[0].line)
    assert "and 4 more problems" in str(err)


@pytest.mark.parametrize(
    ("element", "detail", "hint"),
    [
        ('<bpmn:serviceTask id="e1" camunda:class="a.B" />', "Java class", 'camunda:type="external"'),
        ('<bpmn:serviceTask id="e1" camunda:delegateExpression="${mailer}" />', "Java delegate", "camunda:topic"),
        ('<bpmn:serviceTask id="e1" camunda:expression="${m.send()}" />', "calls Java", 'camunda:type="external"'),
        (
            '<bpmn:scriptTask id="e1" scriptFormat="groovy"><bpmn:script>x</bpmn:script></bpmn:scriptTask>',
            "'groovy'",
            "Python script task",
        ),
        (
            '<bpmn:scriptTask id="e1" scriptFormat="javascript"><bpmn:script>x</bpmn:script></bpmn:scriptTask>',
            "'javascript'",
            "Python script task",
        ),
        (
            '<bpmn:userTask id="e1" camunda:candidateGroups="duty"><bpmn:extensionElements>'
            '<camunda:taskListener event="create" class="a.B" /></bpmn:extensionElements></bpmn:userTask>',
            "task listeners",
            "camunda:candidateGroups",
        ),
        (
            '<bpmn:task id="e1"><bpmn:extensionElements><camunda:executionListener event="start" />'
            "</bpmn:extensionElements></bpmn:task>",
            "execution listeners",
            "script task",
        ),
        (
            '<bpmn:task id="e1"><bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="x">'
            '<camunda:script scriptFormat="groovy">1</camunda:script></camunda:inputParameter></camunda:inputOutput>'
            "</bpmn:extensionElements></bpmn:task>",
            "scripts in input/output",
            "${...}",
        ),
    ],
)
def test_java_groovy_and_listeners_are_refused_with_a_hint(element, detail, hint):
    err = refused(linear(element))
    assert err.element_id == "e1"  # inside extension elements: the element holding them
    assert detail in err.detail and hint in (err.hint or "")


def io_task(body: str) -> str:
    return (
        '<bpmn:userTask id="e1" camunda:candidateGroups="${queue}"><bpmn:extensionElements><camunda:inputOutput>'
        f'{body}</camunda:inputOutput><camunda:formData><camunda:formField id="reply" type="string" />'
        "</camunda:formData></bpmn:extensionElements></bpmn:userTask>"
    )


def test_input_parameters_are_set_before_the_task_and_outputs_after():
    body = (
        '<camunda:inputParameter name="queue">duty</camunda:inputParameter>'
        '<camunda:inputParameter name="doubled">${n * 2}</camunda:inputParameter>'
        '<camunda:inputParameter name="names"><camunda:list><camunda:value>a</camunda:value>'
        "<camunda:value>${who}</camunda:value></camunda:list></camunda:inputParameter>"
        '<camunda:inputParameter name="box"><camunda:map><camunda:entry key="size">${n}</camunda:entry>'
        '<camunda:entry key="kind">crate</camunda:entry></camunda:map></camunda:inputParameter>'
        '<camunda:outputParameter name="answer">${reply + "!"}</camunda:outputParameter>'
    )
    definition = load_definition(linear(io_task(body)), filename="io.bpmn")
    run = definition.start({"n": 21, "who": "b"}, decide=no_decision)
    run.advance()
    [task] = run.user_tasks()
    assert task.candidate_groups == ("duty",)  # the input was set before the assignment was read
    assert (run.data["doubled"], run.data["names"], run.data["box"]) == (42, ["a", "b"], {"size": 21, "kind": "crate"})
    assert "answer" not in run.data
    run.complete_user_task(task.id, {"reply": "yes"})
    run.advance()
    assert run.completed and run.data["answer"] == "yes!"


def test_input_output_on_a_gateway_or_a_bad_name_is_refused():
    gateway = (
        '<bpmn:exclusiveGateway id="e1"><bpmn:extensionElements><camunda:inputOutput /></bpmn:extensionElements>'
        "</bpmn:exclusiveGateway>"
    )
    assert "not supported on bpmn:exclusiveGateway" in refused(linear(gateway)).detail
    bad = io_task('<camunda:inputParameter name="__class__">x</camunda:inputParameter>')
    assert "plain identifier" in refused(linear(bad)).detail


def test_candidate_users_may_take_a_task_without_a_group():
    xml = linear('<bpmn:userTask id="e1" camunda:candidateUsers="anna, ${boss}" />')
    run = load_definition(xml, filename="users.bpmn").start({"boss": "boris"}, decide=no_decision)
    run.advance()
    [task] = run.user_tasks()
    assert task.candidate_users == ("anna", "boris") and task.candidate_groups == ()


def test_the_initiator_variable_gets_the_starters_name():
    xml = linear(USER.format(id="e1")).replace(
        b'<bpmn:startEvent id="start" />', b'<bpmn:startEvent id="start" camunda:initiator="starter" />'
    )
    definition = load_definition(xml, filename="init.bpmn")
    assert definition.start({}, decide=no_decision, starter="olga").data["starter"] == "olga"
    assert (
        "starter"
        not in load_definition(linear(USER.format(id="e1")), filename="x.bpmn")
        .start({}, decide=no_decision, starter="olga")
        .data
    )


def test_the_activiti_namespace_is_read_as_camundas():
    xml = linear('<bpmn:userTask id="e1" activiti:candidateGroups="duty" />').replace(
        b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"', b'xmlns:activiti="http://activiti.org/bpmn"'
    )
    run = load_definition(xml, filename="old.bpmn").start({}, decide=no_decision)
    run.advance()
    assert run.user_tasks()[0].candidate_groups == ("duty",)


def status_task(props: str) -> str:
    return (
        '<bpmn:userTask id="e1" camunda:candidateGroups="duty"><bpmn:extensionElements><camunda:properties>'
        f"{props}</camunda:properties></bpmn:extensionElements></bpmn:userTask>"
    )


def test_status_and_sla_are_read_and_checked():
    known = Known(statuses=frozenset({"estimating"}))
    ok = status_task(
        '<camunda:property name="status" value="estimating" /><camunda:property name="sla" value="pause_client" />'
    )
    definition = load_definition(linear(ok), filename="s.bpmn", known=known)
    assert definition.task_statuses == {"e1": "estimating"} and definition.task_sla == {"e1": "pause_client"}
    assert definition.warnings == ()
    unknown = status_task('<camunda:property name="status" value="dreaming" />')
    err = refused(linear(unknown), known)
    assert err.element_id == "e1" and "'dreaming'" in err.detail and "estimating" in (err.hint or "")
    bad_sla = status_task(
        '<camunda:property name="status" value="estimating" /><camunda:property name="sla" value="pause_forever" />'
    )
    assert "unknown sla 'pause_forever'" in refused(linear(bad_sla), known).detail


def test_a_user_task_without_a_status_is_a_warning_not_a_refusal():
    definition = load_definition(linear(USER.format(id="e1")), filename="w.bpmn")
    [warning] = definition.warnings
    assert warning.element_id == "e1" and "no ticket status" in warning.detail


def test_a_user_task_for_nobody_is_a_warning_and_opens_in_no_queue():
    definition = load_definition(linear('<bpmn:userTask id="e1" />'), filename="nobody.bpmn")
    warning = next(w for w in definition.warnings if "camunda:candidateGroups" in w.detail)
    assert warning.element_id == "e1" and "administrators and managers" in warning.detail
    run = definition.start({}, decide=no_decision)
    run.advance()
    [task] = run.user_tasks()
    assert (task.candidate_groups, task.candidate_users, task.assignee) == ((), (), None)
