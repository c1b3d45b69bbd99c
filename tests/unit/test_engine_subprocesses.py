"""Sub-processes and multi-instance activities: small diagrams run through the engine."""

from __future__ import annotations

import pytest

from service.engine import DiagramError, EngineError, TaskCompleted, load_definition
from tests.unit.test_engine_elements import flow, no_decisions
from tests.unit.test_engine_helpers import process_xml


def load(body: str):
    return load_definition(process_xml(body), filename="subprocesses.bpmn")


def around(task: str) -> str:
    """`task` (with id "each") between a start and an end event."""
    return (
        '<bpmn:startEvent id="start" />' + task + '<bpmn:endEvent id="end" />'
        + flow("f1", "start", "each")
        + flow("f2", "each", "end")
    )  # fmt: skip


def marker(attrs: str = 'camunda:collection="${parts}" camunda:elementVariable="part"', inner: str = "") -> str:
    return f"<bpmn:multiInstanceLoopCharacteristics {attrs}>{inner}</bpmn:multiInstanceLoopCharacteristics>"


def test_a_parallel_multi_instance_user_task_opens_one_task_per_item():
    definition = load(
        around(f'<bpmn:userTask id="each" camunda:candidateGroups="stock-${{part}}">{marker()}</bpmn:userTask>')
    )
    run = definition.start({"parts": ["disk", "fan", "psu"]}, decide=no_decisions)
    run.advance()
    tasks = run.user_tasks()
    assert sorted(t.candidate_groups for t in tasks) == [("stock-disk",), ("stock-fan",), ("stock-psu",)]
    run = definition.restore(run.serialize(), decide=no_decisions)
    for task in run.user_tasks():
        run.complete_user_task(task.id, {})
        run.advance()
    assert run.completed and "part" not in run.data and run.data["parts"] == ["disk", "fan", "psu"]


def test_a_sequential_multi_instance_script_runs_once_per_item_in_order():
    script = "<bpmn:script>seen = (seen or []) + [part]</bpmn:script>"
    definition = load(
        around(
            '<bpmn:scriptTask id="each" scriptFormat="python">'
            + marker('isSequential="true" camunda:collection="parts" camunda:elementVariable="part"')
            + script
            + "</bpmn:scriptTask>"
        )
    )
    run = definition.start({"parts": ["disk", "fan", "psu"], "seen": None}, decide=no_decisions)
    events = run.advance()
    assert run.completed and run.data["seen"] == ["disk", "fan", "psu"]
    assert [e for e in events if e == TaskCompleted("each", "scriptTask")] == [TaskCompleted("each", "scriptTask")] * 3


def test_a_completion_condition_stops_the_remaining_instances():
    definition = load(
        around(
            '<bpmn:userTask id="each" camunda:candidateGroups="duty">'
            + marker(
                'isSequential="true" camunda:collection="${offers}" camunda:elementVariable="offer"',
                '<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">${accepted}</bpmn:completionCondition>',
            )
            + "<bpmn:extensionElements><camunda:formData>"
            '<camunda:formField id="accepted" type="boolean" /></camunda:formData></bpmn:extensionElements>'
            "</bpmn:userTask>"
        )
    )
    run = definition.start({"offers": ["a", "b", "c"], "accepted": False}, decide=no_decisions)
    run.advance()
    answers = []
    while not run.completed:
        [task] = run.user_tasks()
        answers.append(len(answers) == 1)  # the second offer is accepted
        run = definition.restore(run.serialize(), decide=no_decisions)
        run.complete_user_task(task.id, {"accepted": answers[-1]})
        run.advance()
    assert answers == [False, True] and run.data["accepted"] is True


def test_a_multi_instance_sub_process_by_cardinality():
    definition = load(
        '<bpmn:startEvent id="start" />'
        '<bpmn:subProcess id="each">' + marker("", "<bpmn:loopCardinality>${copies}</bpmn:loopCardinality>")
        + '<bpmn:startEvent id="s_start" /><bpmn:userTask id="sign" camunda:candidateGroups="duty" />'
        '<bpmn:endEvent id="s_end" />' + flow("s1", "s_start", "sign") + flow("s2", "sign", "s_end")
        + "</bpmn:subProcess>"
        '<bpmn:endEvent id="end" />' + flow("f1", "start", "each") + flow("f2", "each", "end")
    )  # fmt: skip
    run = definition.start({"copies": 2}, decide=no_decisions)
    run.advance()
    assert [t.name for t in run.user_tasks()] == ["sign", "sign"]


def test_a_collection_past_the_size_guard_stops_the_instance():
    definition = load(around(f'<bpmn:task id="each">{marker()}</bpmn:task>'))
    run = definition.start({"parts": list(range(3000))}, decide=no_decisions)
    with pytest.raises(EngineError, match="instance too large"):
        run.advance()


@pytest.mark.parametrize(
    ("task", "says"),
    [
        (f'<bpmn:task id="each">{marker("")}</bpmn:task>', "either camunda:collection or a loopCardinality"),
        ('<bpmn:task id="each">' + marker('camunda:collection="parts"') + "</bpmn:task>", "elementVariable"),
        (
            '<bpmn:task id="each">'
            + marker('camunda:collection="parts" camunda:elementVariable="a b"')
            + "</bpmn:task>",
            "plain identifier",
        ),
        (
            f'<bpmn:task id="each">{marker(inner="<bpmn:completionCondition>__import__(1)</bpmn:completionCondition>")}'
            "</bpmn:task>",
            "refused code",
        ),
        ('<bpmn:task id="each"><bpmn:standardLoopCharacteristics /></bpmn:task>', "loop markers are not supported"),
    ],
)
def test_markers_that_cannot_work_are_refused(task: str, says: str):
    with pytest.raises(DiagramError) as refused:
        load(around(task))
    assert refused.value.element_id == "each" and says in refused.value.detail
