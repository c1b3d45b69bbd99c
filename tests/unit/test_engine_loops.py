"""The escalation loop stays bounded: tree size, document size and step cost do not grow.

SpiffWorkflow appends every loop pass to the task tree; the engine cuts finished passes out
(service/engine/pruning.py). One step here is what the service does per request: restore the
document, complete a user task, advance, serialise.
"""

from __future__ import annotations

import statistics
import time

import pytest

from service.engine import load_definition
from tests.unit.test_engine_helpers import Driver, FakeRules, process_xml, ticket_definition

PASSES = 12
REPEATS = 40


@pytest.fixture(scope="module")
def definition():
    return ticket_definition()


def step(definition, decide, document, name, data):
    run = definition.restore(document, decide=decide)
    [task] = [t for t in run.user_tasks() if t.name == name]
    run.complete_user_task(task.id, data)
    run.advance()
    return run, run.serialize()


def step_cost_ms(definition, decide, document, name, data) -> float:
    """Median wall time of one step from the same document (repeated to smooth out noise)."""
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        step(definition, decide, document, name, data)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def test_twelve_second_circle_passes_keep_the_tree_bounded(definition):
    # Every escalation answers "second circle": resolve -> escalation -> resolve, twelve times.
    rules = FakeRules(max_level=1, second_circles=10**6)
    driver = Driver(definition, rules)
    driver.complete("clarify", {"description": "x"})
    document = driver.run.serialize()
    sizes, lengths, costs = [], [], {}
    for number in range(1, PASSES + 1):
        if number in (1, 10):
            costs[number] = step_cost_ms(definition, rules, document, "resolve", {"outcome": "escalate"})
        run, document = step(definition, rules, document, "resolve", {"outcome": "escalate"})
        assert run.data["circle"] == number + 1
        sizes.append(run.task_count)
        lengths.append(len(document))

    print(f"\ntask count per pass: {sizes}")
    print(f"document bytes per pass: {lengths}")
    print(
        f"step cost (restore + complete + advance + serialize): pass 1 {costs[1]:.2f} ms, "
        f"pass 10 {costs[10]:.2f} ms, ratio {costs[10] / costs[1]:.2f}"
    )
    assert max(sizes) == min(sizes) < 40
    assert max(lengths) - min(lengths) < 100  # only counters change


def test_manager_review_continue_loops_stay_bounded(definition):
    rules = FakeRules(max_level=3, second_circles=0)
    driver = Driver(definition, rules)
    driver.complete("clarify", {"description": "x"})
    for _ in range(3):  # L1 -> L2 -> L3 -> manager review
        driver.complete("resolve", {"outcome": "escalate"})
    at_review = []
    for _ in range(PASSES):
        at_review.append(driver.run.task_count)
        driver.complete("manager_review", {"decision": "continue"})
        driver.complete("resolve", {"outcome": "escalate"})
    print(f"\ntask count at each manager review: {at_review}")
    assert len(set(at_review)) == 1
    assert driver.run.data["circle"] == 1 + PASSES
    driver.complete("manager_review", {"decision": "close"})
    assert driver.run.completed and driver.run.data["status"] == "closed"


def test_parts_loops_stay_bounded_too(definition):
    # need parts -> delivered -> on site escalates -> resolve again, many times
    rules = FakeRules(max_level=1, second_circles=10**6)
    driver = Driver(definition, rules)
    driver.complete("clarify", {"description": "x"})
    counts = []
    for _ in range(PASSES):
        driver.complete("resolve", {"outcome": "need_parts"})
        driver.complete("order_parts", {"source": "warehouse"})
        assert driver.run.send_message("parts_delivered", {})
        driver.advance()
        driver.complete("onsite_visit", {"outcome": "escalate"})
        counts.append(driver.run.task_count)
    assert len(set(counts)) == 1


def test_loops_through_a_task_with_a_boundary_event_stay_bounded():
    body = """
    <bpmn:startEvent id="start" />
    <bpmn:exclusiveGateway id="merge" />
    <bpmn:userTask id="work" camunda:candidateGroups="duty">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="again" type="boolean" />
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="stop" attachedToRef="work">
      <bpmn:messageEventDefinition messageRef="m" />
    </bpmn:boundaryEvent>
    <bpmn:exclusiveGateway id="more" default="done" />
    <bpmn:endEvent id="end" />
    <bpmn:endEvent id="stopped" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="merge" />
    <bpmn:sequenceFlow id="f2" sourceRef="merge" targetRef="work" />
    <bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="more" />
    <bpmn:sequenceFlow id="loop" sourceRef="more" targetRef="merge">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">again</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="done" sourceRef="more" targetRef="end" />
    <bpmn:sequenceFlow id="f4" sourceRef="stop" targetRef="stopped" />"""
    definition = load_definition(process_xml(body, extra='<bpmn:message id="m" name="stop" />'), filename="b.bpmn")
    run = definition.start({}, decide=None)  # type: ignore[arg-type]
    run.advance()
    counts = []
    for _ in range(PASSES):
        run = definition.restore(run.serialize(), decide=None)  # type: ignore[arg-type]
        run.complete_user_task(run.user_tasks()[0].id, {"again": True})
        run.advance()
        counts.append(run.task_count)
        assert run.waiting_messages() == ["stop"]
    assert len(set(counts)) == 1, counts
    assert run.send_message("stop", {})
    run.advance()
    assert run.completed and run.user_tasks() == []


def test_loops_around_a_sub_process_drop_the_finished_sub_processes():
    body = """
    <bpmn:startEvent id="start" />
    <bpmn:exclusiveGateway id="merge" />
    <bpmn:subProcess id="pass">
      <bpmn:startEvent id="pass_start" />
      <bpmn:userTask id="work" camunda:candidateGroups="duty">
        <bpmn:extensionElements><camunda:formData>
          <camunda:formField id="again" type="boolean" />
        </camunda:formData></bpmn:extensionElements>
      </bpmn:userTask>
      <bpmn:endEvent id="pass_end" />
      <bpmn:sequenceFlow id="p1" sourceRef="pass_start" targetRef="work" />
      <bpmn:sequenceFlow id="p2" sourceRef="work" targetRef="pass_end" />
    </bpmn:subProcess>
    <bpmn:exclusiveGateway id="more" default="done" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="merge" />
    <bpmn:sequenceFlow id="f2" sourceRef="merge" targetRef="pass" />
    <bpmn:sequenceFlow id="f3" sourceRef="pass" targetRef="more" />
    <bpmn:sequenceFlow id="loop" sourceRef="more" targetRef="merge">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">again</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="done" sourceRef="more" targetRef="end" />"""
    definition = load_definition(process_xml(body), filename="s.bpmn")
    run = definition.start({}, decide=None)  # type: ignore[arg-type]
    run.advance()
    counts = []
    for _ in range(PASSES):
        run = definition.restore(run.serialize(), decide=None)  # type: ignore[arg-type]
        run.complete_user_task(run.user_tasks()[0].id, {"again": True})
        run.advance()
        counts.append((run.task_count, len(run._workflow.subprocesses)))
    assert len(set(counts)) == 1 and counts[0][1] == 1, counts
    run.complete_user_task(run.user_tasks()[0].id, {"again": False})
    run.advance()
    assert run.completed
