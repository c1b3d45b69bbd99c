"""The instance's walk of its task tree gives what SpiffWorkflow's iterators give, task for task and in order."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator, TaskState

from service.engine.tree import Workflow, tasks_in_state
from tests.unit.test_engine_helpers import Driver, FakeRules, small_diagram, ticket_definition

MASKS = [
    TaskState.ANY_MASK,
    TaskState.READY,
    TaskState.WAITING,
    TaskState.READY | TaskState.WAITING | TaskState.STARTED,
    TaskState.NOT_FINISHED_MASK,
    TaskState.PREDICTED_MASK,
    TaskState.COMPLETED,
    TaskState.FINISHED_MASK,
]


def assert_same_walks(workflow: Any) -> int:
    """Every mask from the top tree and from each subprocess's tree, as the BPMN iterator and the plain one walk
    them; the number of tasks compared."""
    compared = 0
    for root in [workflow.task_tree, *(sub.task_tree for sub in workflow.subprocesses.values())]:
        for mask in MASKS:
            bpmn = list(BpmnTaskIterator(root, state=mask))
            assert list(tasks_in_state(root, mask, workflow)) == bpmn, TaskState.get_name(mask)
            plain = list(TaskIterator(root, state=mask))
            assert list(tasks_in_state(root, mask)) == plain, TaskState.get_name(mask)
            compared += len(bpmn) + len(plain)
    assert workflow.get_tasks(state=TaskState.READY) == list(
        BpmnTaskIterator(workflow.task_tree, state=TaskState.READY)
    )
    return compared


def test_a_restored_instance_walks_its_tree_with_the_fast_walk():
    definition = small_diagram("parallel_subprocess.bpmn")
    run = definition.restore(definition.start({"owner": "lee"}, decide=FakeRules()).serialize(), decide=FakeRules())
    assert isinstance(run._workflow, Workflow)


def test_the_walks_match_through_parallel_branches_and_a_subprocess():
    definition = small_diagram("parallel_subprocess.bpmn")
    run = definition.start({"owner": "lee"}, decide=FakeRules())
    assert isinstance(run._workflow, Workflow)
    compared = assert_same_walks(run._workflow)
    run.advance()
    assert run._workflow.subprocesses, "the diagram's subprocess is running"
    compared += assert_same_walks(run._workflow)
    for view in run.user_tasks():
        run.complete_user_task(view.id, {f"{view.name}_done": True})
        compared += assert_same_walks(run._workflow)
        run.advance()
        compared += assert_same_walks(run._workflow)
    assert run.completed and compared > 100


def test_the_walks_match_along_the_ticket_flow_with_its_escalations():
    driver = Driver(ticket_definition(), FakeRules(max_level=2))
    compared = assert_same_walks(driver.run._workflow)
    driver.complete("clarify", {"description": "two failed disks"})
    compared += assert_same_walks(driver.run._workflow)
    for _ in range(2):
        driver.complete("resolve", {"outcome": "escalate"})
        compared += assert_same_walks(driver.run._workflow)
    assert driver.open_tasks() and compared > 200
