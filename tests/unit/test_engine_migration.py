"""Moving running instances of the default flow onto edited versions of it (Definition.adopt)."""

from __future__ import annotations

import pytest

from service.engine import EngineError, MigrationRefused, ReachedElement, load_definition
from tests.support.diagrams import (
    DOUBLE_CHECK,
    insert_step,
    remove_step,
    replace_attribute,
    retag,
    ticket_xml,
    with_closing_note,
)
from tests.unit.test_engine_helpers import DIAGRAMS, Driver, FakeRules, linear, small_diagram, ticket_definition

ANSWERS = {
    "clarify": {"description": "Two disks failed"},
    "estimate": {"diagnostics_cost": 12000},
    "record_payment": {"accepted": True, "paid": True},
    "resolve": {"outcome": "solved"},
    "order_parts": {"source": "warehouse"},
    "onsite_visit": {"outcome": "solved"},
    "manager_review": {"decision": "close"},
}
# How to bring a new instance to each place it can wait at: the rules, then the tasks to complete on the way.
POSITIONS = {
    "clarify": (FakeRules(), []),
    "estimate": (FakeRules(route="per_call"), ["clarify"]),
    "record_payment": (FakeRules(route="per_call"), ["clarify", "estimate"]),
    "resolve": (FakeRules(), ["clarify"]),
    "order_parts": (FakeRules(), ["clarify", ("resolve", {"outcome": "need_parts"})]),
    "parts_delivered": (FakeRules(), ["clarify", ("resolve", {"outcome": "need_parts"}), "order_parts"]),
    "onsite_visit": (
        FakeRules(),
        ["clarify", ("resolve", {"outcome": "need_parts"}), "order_parts", "parts_delivered"],
    ),
    "manager_review": (FakeRules(max_level=1, second_circles=0), ["clarify", ("resolve", {"outcome": "escalate"})]),
}


def load(xml: bytes, name: str = "ticket-v2.bpmn"):
    return load_definition(xml, filename=name)


@pytest.fixture(scope="module")
def original():
    return ticket_definition()


def at(definition, position: str) -> Driver:
    rules, steps = POSITIONS[position]
    driver = Driver(definition, rules)
    for step in steps:
        if step == "parts_delivered":
            assert driver.run.send_message("parts_delivered", {"delivery_note": "DN-1"})
            driver.advance()
            continue
        name, data = step if isinstance(step, tuple) else (step, ANSWERS[step])
        driver.complete(name, data)
    return driver


def where(driver: Driver) -> list[str]:
    return driver.open_tasks() or driver.run.waiting_messages()


def move(driver: Driver, target) -> None:
    assert target.migration_problems(driver.run) == []
    driver.run = target.adopt(driver.run.serialize(), decide=driver.decide)
    driver.definition = target
    driver.advance()


def finish(driver: Driver) -> None:
    for _ in range(20):
        if driver.run.completed:
            return
        if driver.run.waiting_messages():
            assert driver.run.send_message("parts_delivered", {})
            driver.advance()
            continue
        name = driver.open_tasks()[0]
        driver.complete(name, ANSWERS[name])
    raise AssertionError(f"the instance did not finish; it waits at {where(driver)}")


@pytest.mark.parametrize("position", list(POSITIONS))
def test_an_instance_waiting_anywhere_moves_to_a_version_with_a_new_step(original, position):
    target = load(with_closing_note())
    driver = at(original, position)
    before = [(t.id, t.name) for t in driver.run.user_tasks()]
    move(driver, target)
    assert where(driver) == [position]
    assert [(t.id, t.name) for t in driver.run.user_tasks()] == before  # open tasks keep their ids
    finish(driver)
    assert driver.run.data["status"] == "closed"
    assert driver.run.data["closed_by_new_version"] is True
    assert "closing_note" in driver.completed_elements()


def test_a_step_added_right_after_the_open_task_comes_next(original):
    target = load(insert_step(ticket_xml(), after="clarify", step=DOUBLE_CHECK))
    driver = at(original, "clarify")
    move(driver, target)
    driver.complete("clarify", ANSWERS["clarify"])
    assert driver.open_tasks() == ["double_check"]
    assert driver.task("double_check").candidate_groups == ("duty",)
    driver.complete("double_check", {})
    assert driver.open_tasks() == ["resolve"]


def test_reached_elements_say_what_was_passed_and_where_the_instance_sits(original):
    driver = at(original, "resolve")
    reached = {element.element_id: element for element in driver.run.reached_elements()}
    assert reached["resolve"] == ReachedElement("resolve", "userTask", open=True)
    assert reached["clarify"] == ReachedElement("clarify", "userTask", open=False)
    assert reached["routing"].kind == "businessRuleTask"
    assert "estimate" not in reached and "order_parts" not in reached
    waiting = {element.element_id: element for element in at(original, "parts_delivered").run.reached_elements()}
    assert waiting["parts_delivered"] == ReachedElement("parts_delivered", "intermediateCatchEvent", open=True)


def test_removing_a_step_the_instance_passed_is_refused(original):
    target = load(remove_step(ticket_xml(), "notify_duty_officers"))
    driver = at(original, "resolve")
    [problem] = target.migration_problems(driver.run)
    assert "notify_duty_officers" in problem and "has passed" in problem
    with pytest.raises(MigrationRefused) as refused:
        target.adopt(driver.run.serialize(), decide=driver.decide)
    assert "notify_duty_officers" in refused.value.problems[0]


def test_removing_a_step_on_another_path_is_fine(original):
    target = load(remove_step(ticket_xml(), "mail_estimate"))
    driver = at(original, "resolve")  # a contract ticket never e-mails an estimate
    move(driver, target)
    finish(driver)
    per_call = at(original, "estimate")
    move(per_call, target)
    finish(per_call)
    assert "mail.estimate" not in per_call.topics


def test_removing_the_open_task_is_refused(original):
    target = load(remove_step(ticket_xml(), "order_parts"))
    problems = target.migration_problems(at(original, "order_parts").run)
    assert problems == ["order_parts (userTask), which the instance sits on, is not in this version"]


def test_a_passed_step_of_another_kind_is_refused(original):
    target = load(retag(ticket_xml(), "notify_duty_officers", "task"))
    [problem] = target.migration_problems(at(original, "clarify").run)
    assert problem == "notify_duty_officers, which the instance has passed, is now a task, not a serviceTask"


def test_the_open_task_must_still_ask_the_same(original):
    target = load(replace_attribute(ticket_xml(), "resolve", "camunda:candidateGroups", "managers"))
    [problem] = target.migration_problems(at(original, "resolve").run)
    assert problem == "resolve, which the instance sits on, changed its candidate groups"
    assert target.migration_problems(at(original, "clarify").run) == []  # not reached yet: fine


def test_changes_between_versions(original):
    target = load(
        replace_attribute(
            remove_step(with_closing_note(), "mail_estimate"), "mail_ticket_closed", "camunda:topic", "mail.ticket_done"
        )
    )
    changes = target.changes_from(original)
    assert changes.added == ("closing_note",)
    assert changes.removed == ("mail_estimate",)
    assert changes.changed == ("mail_ticket_closed",)
    assert original.changes_from(original).added == ()


def test_a_document_of_another_process_is_refused(original):
    other = load_definition(linear('<bpmn:userTask id="e1" camunda:candidateGroups="duty" />'), filename="demo.bpmn")
    run = other.start({}, decide=FakeRules())
    run.advance()
    with pytest.raises(EngineError, match="belongs to process 'demo'"):
        original.adopt(run.serialize(), decide=FakeRules())


def test_parallel_branches_and_a_sub_process_move_too():
    original = small_diagram("parallel_subprocess.bpmn")
    xml = (DIAGRAMS / "parallel_subprocess.bpmn").read_text()
    inner_step = xml.replace(
        '<bpmn:sequenceFlow id="i2" sourceRef="right" targetRef="inner_end" />',
        '<bpmn:userTask id="recheck" camunda:candidateGroups="duty" />'
        '<bpmn:sequenceFlow id="i2" sourceRef="right" targetRef="recheck" />'
        '<bpmn:sequenceFlow id="i3" sourceRef="recheck" targetRef="inner_end" />',
    )
    target = load(inner_step.encode(), "parallel-v2.bpmn")
    run = original.start({"owner": "lee"}, decide=FakeRules())
    run.advance()
    open_before = {view.name: view.id for view in run.user_tasks()}
    assert target.migration_problems(run) == []
    run = target.adopt(run.serialize(), decide=FakeRules())
    assert {view.name: view.id for view in run.user_tasks()} == open_before
    run.complete_user_task(open_before["right"], {"right_done": True})
    run.advance()
    views = {view.name: view.id for view in run.user_tasks()}
    assert set(views) == {"left", "recheck"}
    run.complete_user_task(views["recheck"], {})
    run.complete_user_task(views["left"], {"left_done": True})
    run.advance()
    assert run.completed and run.data["right_done"] and run.data["left_done"]

    without_inner = (
        xml.replace('<bpmn:userTask id="right"', '<bpmn:userTask id="right_v3"')
        .replace('targetRef="right"', 'targetRef="right_v3"')
        .replace('sourceRef="right"', 'sourceRef="right_v3"')
    )
    started = original.start({"owner": "lee"}, decide=FakeRules())
    started.advance()
    problems = load(without_inner.encode(), "parallel-v3.bpmn").migration_problems(started)
    assert problems == ["right (userTask), which the instance sits on, is not in this version"]
