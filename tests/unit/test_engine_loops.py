"""The escalation loop stays bounded: tree size, document size and step cost do not grow.

SpiffWorkflow appends every loop pass to the task tree; the engine cuts finished passes out
(service/engine/pruning.py). One step here is what the service does per request: restore the
document, complete a user task, advance, serialise.
"""

from __future__ import annotations

import statistics
import time

import pytest

from tests.unit.test_engine_helpers import Driver, FakeRules, ticket_definition

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
