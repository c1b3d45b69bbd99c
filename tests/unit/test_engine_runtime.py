"""Running instances: external tasks, assignment, failures as EngineError, limits, documents."""

from __future__ import annotations

import json

import pytest
from SpiffWorkflow.task import Task

from service.engine import EngineError, TaskCompleted, TaskNotOpen, load_definition
from service.engine.script_engine import RestrictedScriptEngine
from service.engine.serializer import InstanceSerializer
from tests.unit.test_engine_helpers import Decision, FakeRules, linear, process_xml, small_diagram, ticket_definition


def definition_of(*elements: str):
    return load_definition(linear(*elements), filename="demo.bpmn")


def no_decisions(ruleset, facts):
    raise AssertionError("no decision expected")


def reopen(definition, run, decide=no_decisions):
    return definition.restore(run.serialize(), decide=decide)


EXTERNAL = '<bpmn:serviceTask id="e1" camunda:type="external" camunda:topic="demo.work" />'
USER = '<bpmn:userTask id="e2" name="Check" camunda:candidateGroups="duty" />'
ONLY_USER = '<bpmn:userTask id="e1" camunda:candidateGroups="duty" />'


def test_external_tasks_are_parked_until_a_worker_completes_them():
    definition = definition_of(EXTERNAL, USER)
    run = definition.start({"ticket": "SD-1"}, decide=no_decisions)
    assert run.advance() == [TaskCompleted("start", "startEvent")]
    [job] = run.external_tasks()
    assert (job.name, job.topic, job.variables) == ("e1", "demo.work", {"ticket": "SD-1"})
    assert run.user_tasks() == []
    run = reopen(definition, run)
    assert run.advance() == []  # still parked
    assert run.external_tasks()[0].id == job.id

    run.complete_external_task(job.id, {"folder_url": "file:///x"})
    assert run.advance() == [TaskCompleted("e1", "serviceTask")]
    assert run.external_tasks() == []
    assert [t.name for t in run.user_tasks()] == ["e2"]
    assert run.data == {"ticket": "SD-1", "folder_url": "file:///x"}
    with pytest.raises(TaskNotOpen):
        run.complete_external_task(job.id, {})
    with pytest.raises(TaskNotOpen):
        run.complete_user_task(job.id, {})


def test_external_results_must_be_plain_data():
    definition = definition_of(EXTERNAL)
    run = definition.start({}, decide=no_decisions)
    run.advance()
    with pytest.raises(ValueError, match="not JSON data"):
        run.complete_external_task(run.external_tasks()[0].id, {"when": object()})


def test_assignment_expressions_are_evaluated_against_the_task_data():
    task = (
        '<bpmn:userTask id="e1" name="Work" camunda:candidateGroups="${team}-L${level}, managers, ${extra}" '
        'camunda:assignee="${owner}" camunda:dueDate="${due}" camunda:priority="${level * 10}" />'
    )
    literal = '<bpmn:userTask id="e2" camunda:assignee="kim" camunda:dueDate="2024-07-01" camunda:priority="5" />'
    definition = definition_of(task, literal)
    variables = {"team": "storage", "level": 1, "extra": ["audit", "qa"], "owner": "lee", "due": "2024-06-30T17:00:00"}
    run = definition.start(variables, decide=no_decisions)
    run.advance()
    [view] = reopen(definition, run).user_tasks()
    assert view.name == "e1" and view.title == "Work"
    assert view.candidate_groups == ("storage-L1", "managers", "audit", "qa")
    assert (view.assignee, view.due, view.priority) == ("lee", "2024-06-30T17:00:00", 10)

    run.complete_user_task(view.id, {})
    run.advance()
    [view] = run.user_tasks()
    assert (view.title, view.candidate_groups, view.assignee, view.due, view.priority) == (
        "e2",
        (),
        "kim",
        "2024-07-01",
        5,
    )


def test_a_failing_assignment_expression_names_the_element():
    definition = definition_of('<bpmn:userTask id="e1" camunda:candidateGroups="${team}-L${level}" />')
    run = definition.start({"level": 1}, decide=no_decisions)
    with pytest.raises(EngineError) as caught:
        run.advance()
    assert (caught.value.element_id, caught.value.filename) == ("e1", "demo.bpmn")
    assert "NameError" in caught.value.detail


def test_script_errors_name_the_element_and_line():
    script = "<bpmn:script>a = 1\nb = a / zero</bpmn:script>"
    definition = definition_of(f'<bpmn:scriptTask id="e1" scriptFormat="python">{script}</bpmn:scriptTask>')
    run = definition.start({"zero": 0}, decide=no_decisions)
    with pytest.raises(EngineError) as caught:
        run.advance()
    assert caught.value.element_id == "e1"
    assert "line 2" in caught.value.detail and "ZeroDivisionError" in caught.value.detail


def test_scripts_may_only_leave_plain_data():
    definition = definition_of(
        '<bpmn:scriptTask id="e1" scriptFormat="python"><bpmn:script>x = {1: "a"}</bpmn:script></bpmn:scriptTask>'
    )
    run = definition.start({}, decide=no_decisions)
    with pytest.raises(EngineError, match="non-string key"):
        run.advance()


BRT = '<bpmn:businessRuleTask id="e1" camunda:decisionRef="routing" camunda:resultVariable="routing" />'


def test_business_rule_tasks_store_the_outcome_and_report_the_decision():
    seen = []

    def decide(ruleset, facts):
        seen.append((ruleset, facts))
        facts["mutated"] = True  # the engine hands over a copy
        return Decision({"team": "servers", "level": 2}, "routing.dell", "abc123")

    definition = definition_of(BRT, USER)
    run = definition.start({"equipment_vendor": "Dell"}, decide=decide)
    events = run.advance()
    assert seen == [("routing", {"equipment_vendor": "Dell", "mutated": True})]
    assert events[1].outcome == {"team": "servers", "level": 2}
    assert (events[1].element_id, events[1].ruleset, events[1].rule, events[1].version) == (
        "e1",
        "routing",
        "routing.dell",
        "abc123",
    )
    assert run.data == {"equipment_vendor": "Dell", "routing": {"team": "servers", "level": 2}}


@pytest.mark.parametrize(
    ("decide", "message"),
    [
        (lambda r, f: (_ for _ in ()).throw(LookupError("ruleset routing v7 missing")), "LookupError"),
        (lambda r, f: Decision(["not", "a", "dict"], "r"), "not a mapping"),  # type: ignore[arg-type]
        (lambda r, f: object(), "AttributeError"),
    ],
)
def test_decision_failures_name_the_business_rule_task(decide, message):
    run = definition_of(BRT).start({}, decide=decide)
    with pytest.raises(EngineError) as caught:
        run.advance()
    assert (caught.value.element_id, caught.value.filename) == ("e1", "demo.bpmn")
    assert "decision 'routing'" in caught.value.detail and message in caught.value.detail


def gateway_diagram(condition: str) -> bytes:
    return process_xml(f"""
    <bpmn:startEvent id="start" />
    <bpmn:exclusiveGateway id="split" />
    <bpmn:endEvent id="a" />
    <bpmn:endEvent id="b" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split" />
    <bpmn:sequenceFlow id="to_a" sourceRef="split" targetRef="a">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_b" sourceRef="split" targetRef="b">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">route == "b"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>""")


def test_conditions_accept_camunda_style_wrapping():
    definition = load_definition(gateway_diagram('${route == "a"}'), filename="g.bpmn")
    run = definition.start({"route": "a"}, decide=no_decisions)
    events = run.advance()
    assert run.completed and TaskCompleted("a", "endEvent") in events


@pytest.mark.parametrize(("route", "message"), [(None, "No conditions satisfied"), ("x", "No conditions satisfied")])
def test_gateway_with_no_matching_flow_is_an_engine_error(route, message):
    definition = load_definition(gateway_diagram('route == "a"'), filename="g.bpmn")
    run = definition.start({"route": route}, decide=no_decisions)
    with pytest.raises(EngineError) as caught:
        run.advance()
    assert caught.value.element_id == "split" and message in caught.value.detail


def test_condition_errors_name_the_gateway():
    definition = load_definition(gateway_diagram("missing > 1"), filename="g.bpmn")
    with pytest.raises(EngineError) as caught:
        definition.start({}, decide=no_decisions).advance()
    assert caught.value.element_id == "split" and "NameError" in caught.value.detail


def test_an_endless_loop_fails_loudly_instead_of_looking_completed():
    definition = small_diagram("endless_loop.bpmn")
    run = definition.start({"n": 0}, decide=no_decisions)
    with pytest.raises(EngineError, match="instance too large"):
        run.advance()
    assert not run.completed


def test_the_task_cap_is_enforced():
    definition = small_diagram("endless_loop.bpmn")
    run = definition.start({"n": 0}, decide=no_decisions)
    run.max_tasks = 50
    with pytest.raises(EngineError, match="more than 50 tasks"):
        run.advance()


def test_the_depth_cap_is_enforced_once_the_tree_has_more_tasks_than_it(monkeypatch):
    walked: list[int] = []
    depth = Task.depth
    monkeypatch.setattr(Task, "depth", property(lambda task: walked.append(1) or depth.fget(task)))
    definition = small_diagram("endless_loop.bpmn")
    run = definition.start({"n": 0}, decide=no_decisions)
    run.max_depth = 30
    with pytest.raises(EngineError, match="deeper than 30"):
        run.advance()
    assert walked
    small = definition.start({"n": 0}, decide=no_decisions)
    walked.clear()
    small.max_depth, small.max_tasks = 1000, 20
    with pytest.raises(EngineError, match="more than 20 tasks"):
        small.advance()
    assert walked == []  # fewer tasks than the depth cap: no walk up the tree at each step


def test_call_service_is_not_masked_as_a_name_error():
    engine = RestrictedScriptEngine(decide=no_decisions, emit=lambda event: None)
    run = definition_of(ONLY_USER).start({}, decide=no_decisions)
    task = run._workflow.task_tree
    with pytest.raises(EngineError, match="not run inline"):
        engine.call_service(task, operation_name="mail")


def test_parallel_branches_subprocesses_and_plain_tasks():
    definition = small_diagram("parallel_subprocess.bpmn")
    run = definition.start({"owner": "lee"}, decide=no_decisions)
    events = run.advance()
    assert TaskCompleted("note", "task") in events
    views = {v.name: v for v in run.user_tasks()}
    assert set(views) == {"left", "right"}
    assert views["right"].assignee == "lee" and views["right"].candidate_groups == ()

    run = reopen(definition, run)
    run.complete_user_task(views["right"].id, {"right_done": True})
    run.advance()
    run = reopen(definition, run)
    assert [v.name for v in run.user_tasks()] == ["left"]
    run.complete_user_task(views["left"].id, {"left_done": True})
    run.advance()
    assert run.completed
    assert run.data == {"owner": "lee", "left_done": True, "right_done": True}


def test_update_data_reaches_open_and_waiting_tasks():
    definition = ticket_definition()
    run = definition.start({"ticket": "SD-9", "paid": False, "severity": "low"}, decide=FakeRules())
    run.advance()
    run.update_data({"summary": "new summary"})
    assert run.external_tasks()[0].variables["summary"] == "new summary"
    assert run.data["summary"] == "new summary"

    message = linear(
        '<bpmn:intermediateCatchEvent id="e1"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="variables" value="delivery" /></camunda:properties></bpmn:extensionElements>'
        '<bpmn:messageEventDefinition messageRef="m" /></bpmn:intermediateCatchEvent>',
        USER,
    ).replace(b"</bpmn:definitions>", b'<bpmn:message id="m" name="go" /></bpmn:definitions>')
    definition = load_definition(message, filename="m.bpmn")
    run = definition.start({"summary": "old"}, decide=no_decisions)
    run.advance()
    assert run.waiting_messages() == ["go"]
    run.update_data({"summary": "new"})
    run = reopen(definition, run)
    assert run.send_message("go", {"delivery": 1})
    run.advance()
    assert run.data == {"summary": "new", "delivery": 1}
    with pytest.raises(ValueError):
        run.update_data({"__class__": 1})


def test_start_data_must_be_plain():
    with pytest.raises(ValueError):
        definition_of(ONLY_USER).start({"when": {1, 2}}, decide=no_decisions)


def test_documents_do_not_carry_the_spec_and_restore_only_into_their_definition():
    definition = ticket_definition()
    run = definition.start({"ticket": "SD-2", "paid": False}, decide=FakeRules())
    run.advance()
    document = run.serialize()
    assert json.loads(document)["spec"] == "ticket"
    full = InstanceSerializer(definition._spec, definition._subprocess_specs, include_spec=True).dumps(run._workflow)
    assert len(document) * 2 < len(full)
    print(f"\ninstance document: {len(document)} bytes without the spec, {len(full)} with it")

    other = definition_of(ONLY_USER)
    with pytest.raises(EngineError, match="belongs to process 'ticket'"):
        other.restore(document, decide=no_decisions)
    with pytest.raises(EngineError, match="unreadable instance document"):
        definition.restore("{not json", decide=no_decisions)


def test_spec_converters_round_trip_the_custom_specs():
    definition = ticket_definition()
    serializer = definition.serializer()
    restored = serializer.spec_from_dict(serializer.spec_to_dict(definition._spec))
    original = definition._spec.task_specs
    assert restored.task_specs["resolve"].config == original["resolve"].config
    assert restored.task_specs["create_folder"].topic == "files.create_folder"
    assert restored.task_specs["create_folder"].manual is True
    brt = restored.task_specs["escalation"]
    assert (brt.decision_ref, brt.result_variable) == ("escalation", "escalation")


def test_update_data_refreshes_the_queue_of_an_open_user_task():
    definition = definition_of('<bpmn:userTask id="e1" camunda:candidateGroups="${team}-L${level + 1}" />')
    run = definition.start({"team": "storage", "level": 0}, decide=no_decisions)
    run.advance()
    run.update_data({"team": "servers"})
    assert run.user_tasks()[0].candidate_groups == ("servers-L1",)
    run.update_data({"level": "two"})  # the expression now fails: the task keeps its queue
    assert reopen(definition, run).user_tasks()[0].candidate_groups == ("servers-L1",)


def test_what_a_run_reads_of_its_tree_is_read_again_after_each_change():
    definition = definition_of(EXTERNAL, USER, '<bpmn:userTask id="e3" camunda:candidateGroups="duty" />')
    run = definition.start({"ticket": "SD-1"}, decide=no_decisions)
    run.advance()
    [job] = run.external_tasks()
    assert (run.user_tasks(), run.completed) == ([], False)  # read, and kept until the tree changes

    run.complete_external_task(job.id, {"folder_url": "file:///x"})
    assert [task.name for task in run.user_tasks()] == ["e2"]  # ready before the next advance
    run.advance()
    assert run.external_tasks() == []
    run.update_data({"ticket": "SD-2"})
    assert run.variables()["ticket"] == "SD-2"

    [check] = run.user_tasks()
    run.complete_user_task(check.id, {})
    assert [task.name for task in run.user_tasks()] == ["e3"]
    run.advance()
    [last] = run.user_tasks()
    run.complete_user_task(last.id, {})
    run.advance()
    assert (run.user_tasks(), run.completed) == ([], True)
