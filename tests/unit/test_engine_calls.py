"""Call activities run through the engine: a called process loaded on its own, bound to the caller, and the
variables `camunda:in` and `camunda:out` pass."""

from __future__ import annotations

import pytest

from service.engine import Call, Definition, DiagramError, EngineError, Known, call_graph, load_definition
from tests.unit.test_engine_elements import flow, no_decisions
from tests.unit.test_engine_helpers import process_xml

#: The called process: a user task, then a script that scores what it was given.
SURVEY = process_xml(
    '<bpmn:startEvent id="s_start" />'
    '<bpmn:userTask id="visit" camunda:candidateGroups="duty"><bpmn:extensionElements><camunda:inputOutput>'
    "<camunda:inputParameter name=\"had_client\">${execution.getVariable('client') != null}</camunda:inputParameter>"
    '</camunda:inputOutput><camunda:formData><camunda:formField id="finding" type="string" /></camunda:formData>'
    "</bpmn:extensionElements></bpmn:userTask>"
    '<bpmn:scriptTask id="score_it" scriptFormat="python"><bpmn:script>score = 2 if urgent else 1</bpmn:script>'
    "</bpmn:scriptTask>"
    '<bpmn:endEvent id="s_end" />' + flow("s1", "s_start", "visit") + flow("s2", "visit", "score_it")
    + flow("s3", "score_it", "s_end"),
    process_attrs='id="survey" isExecutable="true"',
)  # fmt: skip

MAPPINGS = (
    '<camunda:in source="summary" target="subject" />'
    '<camunda:in sourceExpression="${severity == \'high\'}" target="urgent" />'
    '<camunda:out source="finding" target="survey_finding" />'
    '<camunda:out sourceExpression="${score * 10}" target="survey_score" />'
    '<camunda:out source="had_client" target="client_seen" />'
)


def caller(mappings: str = MAPPINGS, attrs: str = "") -> bytes:
    return process_xml(
        '<bpmn:startEvent id="start" />'
        f'<bpmn:callActivity id="call_survey" calledElement="survey"{attrs}>'
        f"<bpmn:extensionElements>{mappings}</bpmn:extensionElements></bpmn:callActivity>"
        '<bpmn:userTask id="review" camunda:candidateGroups="managers" />'
        '<bpmn:endEvent id="end" />' + flow("f1", "start", "call_survey") + flow("f2", "call_survey", "review")
        + flow("f3", "review", "end")
    )  # fmt: skip


def bound(xml: bytes, called: Definition | None = None) -> Definition:
    survey = called or load_definition(SURVEY, filename="survey.bpmn")
    return load_definition(xml, filename="demo.bpmn", resolve=lambda call: survey if call.key == "survey" else None)


START = {"summary": "Disk array degraded", "severity": "high", "client": "NORD-BANK"}


def test_the_called_process_gets_only_what_camunda_in_passes_and_gives_back_what_camunda_out_says():
    definition = bound(caller())
    run = definition.start(dict(START), decide=no_decisions)
    run.advance()
    [visit] = run.user_tasks()
    assert visit.name == "visit" and "visit" in definition.user_tasks
    run = definition.restore(run.serialize(), decide=no_decisions)  # one document holds caller and called
    run.complete_user_task(run.user_tasks()[0].id, {"finding": "fan broken"})
    run.advance()
    assert [task.name for task in run.user_tasks()] == ["review"]
    data = run.data
    assert (data["survey_finding"], data["survey_score"], data["client"]) == ("fan broken", 20, "NORD-BANK")
    assert data["client_seen"] is False  # the called process never had the client: it was not passed in
    assert "subject" not in data and "score" not in data


def test_without_mappings_nothing_goes_in_or_out_and_all_passes_everything():
    run = bound(caller("")).start(dict(START), decide=no_decisions)
    run.advance()
    run.complete_user_task(run.user_tasks()[0].id, {})
    with pytest.raises(EngineError, match="urgent"):  # the called script finds no `urgent`: nothing was passed
        run.advance()
    everything = '<camunda:in variables="all" /><camunda:in sourceExpression="${True}" target="urgent" />'
    run = bound(caller(everything + '<camunda:out variables="all" />')).start(dict(START), decide=no_decisions)
    run.advance()
    assert run.data == {**START, "urgent": True, "had_client": True}
    run.complete_user_task(run.user_tasks()[0].id, {"finding": "ok"})
    run.advance()
    assert run.data == {**START, "urgent": True, "finding": "ok", "score": 2, "had_client": True}


def test_a_call_is_checked_against_the_deployed_processes_all_at_once():
    bad = caller(
        '<camunda:in source="summary" /><camunda:out source="a" sourceExpression="${b}" target="c" />'
        '<camunda:in sourceExpression="${__import__}" target="x" />',
        ' camunda:calledElementBinding="version" camunda:calledElementVersion="3"',
    )
    wrong_key = process_xml(
        '<bpmn:startEvent id="start" /><bpmn:callActivity id="call_x" calledElement="nowhere" />'
        '<bpmn:callActivity id="call_y" calledElement="survey" camunda:calledElementBinding="deployment" />'
        '<bpmn:callActivity id="call_z" calledElement="survey" camunda:calledElementBinding="newest" />'
        '<bpmn:endEvent id="end" />' + flow("f1", "start", "call_x") + flow("f2", "call_x", "call_y")
        + flow("f3", "call_y", "call_z") + flow("f4", "call_z", "end")
    )  # fmt: skip
    known = Known(processes={"survey": 2})
    with pytest.raises(DiagramError) as refused:
        load_definition(wrong_key, filename="demo.bpmn", known=known)
    details = {p.element_id: p.detail for p in refused.value.problems}
    assert "names no deployed process" in details["call_x"]
    assert "not deployed together" in details["call_y"]
    assert "unknown camunda:calledElementBinding 'newest'" in details["call_z"]
    with pytest.raises(DiagramError) as refused:
        load_definition(bad, filename="demo.bpmn", known=known)
    [problem] = refused.value.problems  # an element's first problem: the version it names
    assert (problem.element_id, problem.detail) == ("call_survey", "process 'survey' has no version 3 (it has 2)")
    assert problem.line == 6
    with pytest.raises(DiagramError, match="target '' must be a plain identifier"):
        load_definition(bad, filename="demo.bpmn", known=Known(processes={"survey": 3}))


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ('<camunda:in source="a" sourceExpression="${b}" target="c" />', "either source or sourceExpression"),
        ('<camunda:in variables="all" target="c" />', 'variables="all" takes no source'),
        ('<camunda:out source="a" target="not valid" />', "target 'not valid' must be a plain identifier"),
        ('<camunda:in sourceExpression="b" target="c" />', "is not a ${...} expression"),
        ('<camunda:in sourceExpression="${__import__(1)}" target="c" />', "refused expression"),
        ('<camunda:in businessKey="${key}" />', "does not take businessKey"),
    ],
)
def test_a_malformed_mapping_is_refused_naming_the_call(mapping: str, words: str) -> None:
    with pytest.raises(DiagramError) as refused:
        load_definition(caller(mapping), filename="demo.bpmn", known=Known(processes={"survey": 1}))
    assert refused.value.element_id == "call_survey" and words in refused.value.detail


def test_a_called_process_reusing_the_callers_task_ids_is_refused():
    clash = SURVEY.replace(b'"visit"', b'"review"')
    with pytest.raises(DiagramError, match="reuses the element ids review"):
        bound(caller(), load_definition(clash, filename="survey.bpmn"))


def test_the_call_graph_names_what_a_diagram_holds_and_calls():
    assert call_graph(caller()) == (frozenset({"demo"}), frozenset({"survey"}))
    assert call_graph(b"<not xml") == (frozenset(), frozenset())


def test_a_call_names_its_binding():
    seen: list[Call] = []
    survey = load_definition(SURVEY, filename="survey.bpmn")
    xml = caller("", ' camunda:calledElementBinding="version" camunda:calledElementVersion="2"')
    load_definition(xml, filename="demo.bpmn", resolve=lambda call: seen.append(call) or survey)
    assert [(c.element, c.key, c.binding, c.version) for c in seen] == [("call_survey", "survey", "version", 2)]


def test_the_call_round_trips_through_the_spec_converters():
    definition = bound(caller())
    serializer = definition.serializer()
    restored = serializer.spec_from_dict(serializer.spec_to_dict(definition._spec))
    assert restored.task_specs["call_survey"].call == definition._spec.task_specs["call_survey"].call
    assert restored.task_specs["call_survey"].call.outputs[1].expression == "${score * 10}"


def chain(key: str, calls: list[str], task: str) -> bytes:
    """A process `key` with a user task `task`, then a call to each of `calls` in turn, passing everything."""
    ids = [task] + [f"{key}_calls_{other}" for other in calls]
    mappings = '<bpmn:extensionElements><camunda:in variables="all" /><camunda:out variables="all" />'
    body = f'<bpmn:startEvent id="{key}_start" /><bpmn:userTask id="{task}" camunda:candidateGroups="duty" />'
    body += "".join(
        f'<bpmn:callActivity id="{key}_calls_{other}" calledElement="{other}">{mappings}</bpmn:extensionElements>'
        "</bpmn:callActivity>"
        for other in calls
    )
    body += f'<bpmn:endEvent id="{key}_end" />'
    steps = [f"{key}_start", *ids, f"{key}_end"]
    body += "".join(flow(f"{key}_f{n}", a, b) for n, (a, b) in enumerate(zip(steps, steps[1:], strict=False)))
    return process_xml(body, process_attrs=f'id="{key}" isExecutable="true"')


def test_a_called_process_may_call_another_and_all_run_in_one_instance():
    inner = load_definition(chain("inner", [], "inner_task"), filename="inner.bpmn")
    middle = load_definition(chain("middle", ["inner"], "middle_task"), filename="middle.bpmn", resolve=lambda c: inner)
    again = load_definition(chain("inner", [], "inner_task"), filename="inner.bpmn")  # the same version, read again
    top = load_definition(
        chain("top", ["middle", "inner"], "top_task"),
        filename="top.bpmn",
        resolve=lambda call: {"middle": middle, "inner": again}[call.key],
    )
    assert {"top_task", "middle_task", "inner_task"} <= top.user_tasks
    run = top.start({"n": 1}, decide=no_decisions)
    run.advance()
    done = []
    while run.user_tasks():
        [task] = run.user_tasks()
        done.append(task.name)
        run = top.restore(run.serialize(), decide=no_decisions)
        run.complete_user_task(task.id, {})
        run.advance()
    assert done == ["top_task", "middle_task", "inner_task", "inner_task"] and run.completed


def test_a_diagram_that_would_run_two_versions_of_a_process_is_refused():
    inner = load_definition(chain("inner", [], "inner_task"), filename="inner.bpmn")
    newer = load_definition(chain("inner", [], "inner_task").replace(b'id="inner_end"', b'id="inner_done"').replace(
        b'"inner_end"', b'"inner_done"'), filename="inner.bpmn")  # fmt: skip
    middle = load_definition(chain("middle", ["inner"], "middle_task"), filename="middle.bpmn", resolve=lambda c: inner)
    with pytest.raises(DiagramError, match="two versions of process 'inner'"):
        load_definition(
            chain("top", ["inner", "middle"], "top_task"),
            filename="top.bpmn",
            resolve=lambda call: {"middle": middle, "inner": newer}[call.key],
        )
    with pytest.raises(DiagramError, match="or call itself"):
        load_definition(chain("inner", ["inner"], "other_task"), filename="inner.bpmn", resolve=lambda c: inner)


def test_a_failing_mapping_stops_the_instance_naming_the_call():
    out = '<camunda:in variables="all" /><camunda:out sourceExpression="${missing + 1}" target="x" />'
    run = bound(caller(out)).start({**START, "urgent": False}, decide=no_decisions)
    run.advance()
    run.complete_user_task(run.user_tasks()[0].id, {})
    with pytest.raises(EngineError, match="camunda:out of the call to 'survey' failed") as failed:
        run.advance()
    assert failed.value.element_id == "call_survey"
