"""Load-time checks: a bad diagram is refused with the file, element, XML line and reason."""

from __future__ import annotations

import pytest

from service.engine import DiagramError, load_definition
from tests.unit.test_engine_helpers import linear, process_xml

USER = '<bpmn:userTask id="e1" camunda:candidateGroups="duty" />'


def line_of(xml: bytes, marker: str) -> int:
    """1-based line of the first occurrence of marker in the document."""
    text = xml.decode()
    return text[: text.index(marker)].count("\n") + 1


def refused(xml: bytes, filename: str = "bad.bpmn") -> DiagramError:
    with pytest.raises(DiagramError) as caught:
        load_definition(xml, filename=filename)
    return caught.value


def script_task(code: str, element_id: str = "e1") -> str:
    return (
        f'<bpmn:scriptTask id="{element_id}" scriptFormat="python"><bpmn:script>{code}</bpmn:script></bpmn:scriptTask>'
    )


def test_a_good_small_diagram_loads():
    definition = load_definition(linear(USER, script_task("x = 1", "e2")), filename="ok.bpmn")
    assert definition.key == "demo" and definition.name == "demo"
    assert definition.user_tasks == {"e1"}
    assert definition.topics == set() and definition.decision_refs == set() and definition.messages == set()


@pytest.mark.parametrize(
    ("code", "marker", "reason"),
    [
        ("x = 1\nimport os", "import os", "imports are not allowed"),
        ("from os import path", "from os", "imports are not allowed"),
        ("x = ().__class__.__bases__", "x = ()", "access to '__"),
        ("x = __builtins__", "x = __builtins__", "'__builtins__' is not allowed"),
        ("data = open('/etc/passwd').read()", "data = open", "'open' is not allowed"),
        ("x = eval('1')", "x = eval", "'eval' is not allowed"),
        ("f = getattr(x, 'y')", "f = getattr", "'getattr' is not allowed"),
        ("g = globals()", "g = globals", "'globals' is not allowed"),
        ("x = (i for i in []).gi_frame", "x = (i", "'gi_frame' is not allowed"),
        ("x = '{0.__class__}'.format(1)", "x = '{0", "'format' is not allowed"),
        ("while True: pass", "while True", "'while' loops"),
        ("def f(): pass", "def f", "function definitions"),
        ("x = = 1", "x = = 1", "syntax error"),
    ],
)
def test_script_tasks_are_checked(code, marker, reason):
    xml = linear(script_task(code))
    err = refused(xml)
    assert err.filename == "bad.bpmn"
    assert err.element_id == "e1"
    assert err.line == line_of(xml, marker)
    assert reason in err.detail


def test_gateway_conditions_are_checked():
    body = """
    <bpmn:startEvent id="start" />
    <bpmn:exclusiveGateway id="split" default="to_b" />
    <bpmn:endEvent id="a" />
    <bpmn:endEvent id="b" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split" />
    <bpmn:sequenceFlow id="to_a" sourceRef="split" targetRef="a">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">
        ${__import__("os").system("id")}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_b" sourceRef="split" targetRef="b" />"""
    xml = process_xml(body)
    err = refused(xml)
    assert (err.element_id, err.line) == ("to_a", line_of(xml, "${__import__"))
    assert "__import__" in err.detail


@pytest.mark.parametrize(
    ("element", "reason"),
    [
        ('<bpmn:userTask id="e1" camunda:candidateGroups="${__import__(\'os\')}" />', "refused expression"),
        ('<bpmn:userTask id="e1" camunda:assignee="${open(\'x\')}" />', "'open' is not allowed"),
        ('<bpmn:userTask id="e1" camunda:assignee="${owner" />', "unclosed"),
        ('<bpmn:userTask id="e1" camunda:assignee="a" camunda:dueDate="tomorrow" />', "dueDate"),
        ('<bpmn:userTask id="e1" camunda:assignee="a" camunda:priority="high" />', "priority"),
        ('<bpmn:serviceTask id="e1" camunda:topic="mail.x" />', 'camunda:type="external"'),
        ('<bpmn:serviceTask id="e1" camunda:type="external" />', "camunda:topic"),
        ('<bpmn:serviceTask id="e1" camunda:class="com.acme.Mailer" />', 'camunda:type="external"'),
        ('<bpmn:businessRuleTask id="e1" camunda:resultVariable="r" />', "decisionRef"),
        ('<bpmn:businessRuleTask id="e1" camunda:decisionRef="routing" />', "resultVariable"),
        ('<bpmn:scriptTask id="e1" scriptFormat="groovy"><bpmn:script>x</bpmn:script></bpmn:scriptTask>', "groovy"),
        ('<bpmn:scriptTask id="e1" scriptFormat="python" />', "needs a script"),
        ('<bpmn:callActivity id="e1" calledElement="other" />', "the process 'other' it calls is not deployed"),
        ('<bpmn:manualTask id="e1" />', "bpmn:manualTask is not supported"),
        ('<bpmn:sendTask id="e1" />', "bpmn:sendTask is not supported"),
        (
            '<bpmn:intermediateCatchEvent id="e1"><bpmn:timerEventDefinition /></bpmn:intermediateCatchEvent>',
            "exactly one of timeDate, timeDuration, timeCycle",
        ),
        (
            '<bpmn:intermediateCatchEvent id="e1"><bpmn:messageEventDefinition messageRef="nope" />'
            "</bpmn:intermediateCatchEvent>",
            "messageRef",
        ),
        (
            '<bpmn:task id="e1"><bpmn:extensionElements><camunda:executionListener event="start" />'
            "</bpmn:extensionElements></bpmn:task>",
            "listeners are not supported",
        ),
        (
            '<bpmn:task id="e1"><bpmn:standardLoopCharacteristics /></bpmn:task>',
            "loop markers",
        ),
    ],
)
def test_elements_are_checked(element, reason):
    xml = linear(element)
    err = refused(xml)
    assert err.element_id == "e1" or err.element_id is None
    assert err.line is not None and err.line >= line_of(xml, 'id="e1"')
    assert reason in f"{err.detail} {err.hint}"


def form_task(*fields: str) -> str:
    return (
        '<bpmn:userTask id="e1" camunda:candidateGroups="duty"><bpmn:extensionElements><camunda:formData>'
        + "".join(fields)
        + "</camunda:formData></bpmn:extensionElements></bpmn:userTask>"
    )


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ('<camunda:formField id="x" type="color" />', "unknown type 'color'"),
        ('<camunda:formField id="x" type="enum" />', "needs camunda:value"),
        ('<camunda:formField id="__class__" type="string" />', "plain identifier"),
        ('<camunda:formField id="two words" type="string" />', "plain identifier"),
        (
            '<camunda:formField id="x" type="string"><camunda:validation>'
            '<camunda:constraint name="pattern" config="[a-z]+" /></camunda:validation></camunda:formField>',
            "unknown validation constraint 'pattern'",
        ),
        (
            '<camunda:formField id="x" type="long"><camunda:validation>'
            '<camunda:constraint name="max" config="lots" /></camunda:validation></camunda:formField>',
            "needs a number",
        ),
    ],
)
def test_form_fields_are_checked(field, reason):
    xml = linear(form_task(field))
    err = refused(xml)
    assert reason in err.detail
    assert err.line is not None and err.line >= line_of(xml, 'id="e1"')


def test_duplicate_form_fields_are_refused():
    field = '<camunda:formField id="x" type="string" />'
    assert "duplicate form field ids: x" in refused(linear(form_task(field, field))).detail


def test_form_data_is_read_without_a_form_key():
    field = '<camunda:formField id="amount" label="Amount" type="long" defaultValue="3" />'
    definition = load_definition(linear(form_task(field)), filename="ok.bpmn")
    run = definition.start({}, decide=None)  # type: ignore[arg-type]
    run.advance()
    [task] = run.user_tasks()
    [amount] = task.form_fields
    assert (amount.id, amount.label, amount.type, amount.default, amount.required) == (
        "amount",
        "Amount",
        "long",
        "3",
        False,
    )


def test_unparseable_xml_names_the_line():
    xml = linear(USER).replace(b"</bpmn:process>", b"</bpmn:proces>")
    err = refused(xml)
    assert err.element_id is None
    assert err.line == line_of(xml, "</bpmn:proces>")
    assert "does not parse" in err.detail


def test_external_entities_are_refused():
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + linear('<bpmn:userTask id="e1" name="&xxe;" camunda:candidateGroups="duty" />').split(b"?>", 1)[1]
    )
    err = refused(xml)
    assert "external entity" in err.detail
    assert "root:" not in str(err)


def test_not_bpmn_is_refused():
    assert "not a BPMN 2.0" in refused(b"<html><body/></html>").detail


def test_exactly_one_executable_process_or_a_key():
    body = '<bpmn:startEvent id="s" /><bpmn:endEvent id="e" /><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e" />'
    two = process_xml(body, extra=f'<bpmn:process id="other" isExecutable="true">{body}</bpmn:process>')
    assert "found 2" in refused(two).detail
    assert load_definition(two, filename="two.bpmn", key="other").key == "other"
    with pytest.raises(DiagramError, match="no executable process with id 'nope'"):
        load_definition(two, filename="two.bpmn", key="nope")
    none = process_xml(body, process_attrs='id="p" isExecutable="false"')
    assert "found 0" in refused(none).detail


def test_spiffworkflow_structure_errors_are_reported_with_the_element():
    # A task may not fork without a gateway; SpiffWorkflow finds that while parsing.
    body = """
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="fork" camunda:candidateGroups="duty" />
    <bpmn:endEvent id="a" />
    <bpmn:endEvent id="b" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fork" />
    <bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="a" />
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="b" />"""
    xml = process_xml(body)
    err = refused(xml)
    assert err.element_id == "fork"
    assert err.line == line_of(xml, 'id="fork"')


def test_flows_must_connect_elements_beside_them():
    body = """
    <bpmn:startEvent id="start" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="nowhere" />"""
    xml = process_xml(body)
    err = refused(xml)
    assert (err.element_id, err.line) == ("f0", line_of(xml, 'id="f0"'))
    assert "'nowhere'" in err.detail


def test_conditions_only_leave_gateways():
    body = """
    <bpmn:startEvent id="start" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>"""
    err = refused(process_xml(body))
    assert err.element_id == "f0" and "gateway" in err.detail
