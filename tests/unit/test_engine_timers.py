"""Timer events in the engine: expiry of ISO dates, durations, cycles and expressions; firing only on command."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from service.engine import DiagramError, EngineError, Run, load_definition
from service.engine.timers import TimerError, add_duration, first_due, parse_cycle, parse_date

DIAGRAMS = Path(__file__).parent / "diagrams" / "timers"
START = datetime(2030, 1, 31, 9, 0, tzinfo=timezone.utc)


def _start(name: str, data: dict[str, Any] | None = None) -> Run:
    definition = load_definition((DIAGRAMS / name).read_bytes(), filename=name)
    run = definition.start(data or {}, decide=lambda ref, facts: None)
    run.advance()
    return run


def _again(run: Run, name: str) -> Run:
    """The run through its stored document, as every step restores it."""
    definition = load_definition((DIAGRAMS / name).read_bytes(), filename=name)
    return definition.restore(run.serialize(), decide=lambda ref, facts: None)


def test_a_date_is_read_in_utc_and_a_naive_one_as_utc() -> None:
    assert parse_date("2030-01-15T12:00:00+03:00") == datetime(2030, 1, 15, 9, 0, tzinfo=timezone.utc)
    assert parse_date("2030-01-15T09:00:00") == datetime(2030, 1, 15, 9, 0, tzinfo=timezone.utc)
    assert first_due("timeDate", "2030-01-15", START) == datetime(2030, 1, 15, tzinfo=timezone.utc)


def test_a_duration_counts_calendar_months_and_clock_hours_from_its_start() -> None:
    assert add_duration("PT4H", START) == START + timedelta(hours=4)
    assert add_duration("P2D", START) == START + timedelta(days=2)
    assert add_duration("P1W", START) == START + timedelta(days=7)
    assert add_duration("P1M", START) == datetime(2030, 2, 28, 9, 0, tzinfo=timezone.utc)  # no 31 February
    assert add_duration("P1Y2M3DT4H5M6.5S", START) == datetime(2031, 4, 3, 13, 5, 6, 500000, tzinfo=timezone.utc)
    assert first_due("timeDuration", "PT30M", START) == START + timedelta(minutes=30)


@pytest.mark.parametrize("text", ["4H", "PT", "P", "PT4X", "P1DT", "tomorrow"])
def test_a_text_that_is_no_duration_is_refused(text: str) -> None:
    with pytest.raises(TimerError):
        add_duration(text, START)


def test_a_cycle_repeats_from_its_start_or_from_a_date() -> None:
    cycle = parse_cycle("R3/PT10M", START)
    assert (cycle.repeats, cycle.first, cycle.every) == (3, START + timedelta(minutes=10), timedelta(minutes=10))
    dated = parse_cycle("R/2030-02-01T08:00:00Z/P1D", START)
    assert (dated.repeats, dated.first, dated.every) == (
        -1,
        datetime(2030, 2, 1, 8, tzinfo=timezone.utc),
        timedelta(days=1),
    )
    with pytest.raises(TimerError):
        parse_cycle("PT10M", START)


def test_an_interrupting_boundary_timer_cancels_its_task_only_when_fired() -> None:
    run = _start("boundary_escalate.bpmn")
    [timer] = run.timers()
    assert (timer.element_id, timer.kind) == ("four_hours", "timeDuration")
    run = _again(run, "boundary_escalate.bpmn")
    run.advance()  # an ordinary step, even long after the due moment, fires nothing
    assert [task.name for task in run.user_tasks()] == ["solve"] and run.timers() == [timer]
    assert run.fire_timers(timer.due_at - timedelta(seconds=1)) == []
    assert [task.name for task in run.user_tasks()] == ["solve"]
    assert run.fire_timers(timer.due_at) == [timer.id]
    events = run.advance()
    assert "four_hours" in [event.element_id for event in events]
    assert [task.name for task in run.user_tasks()] == ["escalated"] and run.timers() == []


def test_completing_the_task_first_cancels_its_boundary_timer() -> None:
    run = _start("boundary_escalate.bpmn")
    [task] = run.user_tasks()
    run.complete_user_task(task.id, {})
    run.advance()
    assert run.completed and run.timers() == []


def test_a_non_interrupting_boundary_timer_runs_its_path_and_keeps_the_task() -> None:
    run = _start("boundary_remind.bpmn", {"reminders": 0})
    [timer] = run.timers()
    run.fire_timers(timer.due_at)
    events = [event.element_id for event in run.advance()]
    assert "remind" in events and [task.name for task in run.user_tasks()] == ["answer"]
    assert run.timers() == []  # a duration fires once


def test_a_cycle_on_a_boundary_fires_its_count_then_stops() -> None:
    run = _start("boundary_cycle.bpmn", {"reminders": 0})
    reminders = 0
    dues = []
    while run.timers():
        [timer] = run.timers()
        dues.append(timer.due_at)
        run = _again(run, "boundary_cycle.bpmn")
        run.fire_timers(timer.due_at)
        reminders += [event.element_id for event in run.advance()].count("remind")
    assert reminders == 3 and [b - a for a, b in zip(dues, dues[1:], strict=False)] == [timedelta(minutes=10)] * 2
    assert [task.name for task in run.user_tasks()] == ["answer"]


def test_an_intermediate_timer_takes_its_duration_from_an_expression() -> None:
    run = _start("intermediate_wait.bpmn", {"pause": "PT30M"})
    assert run.user_tasks() == []
    [timer] = run.timers()
    run = _again(run, "intermediate_wait.bpmn")
    run.fire_timers(timer.due_at)
    run.advance()
    assert [task.name for task in run.user_tasks()] == ["call_back"]


def test_an_intermediate_timer_at_a_date() -> None:
    run = _start("intermediate_date.bpmn")
    [timer] = run.timers()
    assert (timer.kind, timer.due_at) == ("timeDate", datetime(2030, 1, 15, 9, tzinfo=timezone.utc))
    run.fire_timers(timer.due_at)
    run.advance()
    assert [task.name for task in run.user_tasks()] == ["call_back"]


def test_a_timer_start_event_with_a_cycle_runs_the_process_each_time() -> None:
    run = _start("start_cycle.bpmn", {"runs": 0})
    counted = 0
    while run.timers():
        [timer] = run.timers()
        run.fire_timers(timer.due_at)
        counted += [event.element_id for event in run.advance()].count("count")
    assert counted == 2 and run.completed


def test_an_expression_that_gives_no_duration_fails_naming_the_element() -> None:
    definition = load_definition((DIAGRAMS / "intermediate_wait.bpmn").read_bytes(), filename="w.bpmn")
    run = definition.start({"pause": "soon"}, decide=lambda ref, facts: None)
    with pytest.raises(EngineError, match="soon") as failed:
        run.advance()
    assert failed.value.element_id == "pause"


def _diagram(event: str) -> bytes:
    text = (DIAGRAMS / "boundary_escalate.bpmn").read_text()
    start = text.index("<bpmn:timerEventDefinition>")
    end = text.index("</bpmn:timerEventDefinition>") + len("</bpmn:timerEventDefinition>")
    return (text[:start] + event + text[end:]).encode()


@pytest.mark.parametrize(
    ("definition", "detail"),
    [
        (
            "<bpmn:timerEventDefinition><bpmn:timeDuration>4 hours</bpmn:timeDuration></bpmn:timerEventDefinition>",
            "duration",
        ),
        ("<bpmn:timerEventDefinition><bpmn:timeDate>next week</bpmn:timeDate></bpmn:timerEventDefinition>", "date"),
        (
            "<bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT10M</bpmn:timeCycle></bpmn:timerEventDefinition>",
            "timeCycle",
        ),
        ("<bpmn:timerEventDefinition />", "exactly one"),
        (
            "<bpmn:timerEventDefinition><bpmn:timeDuration>${__import__('os')}</bpmn:timeDuration></bpmn:timerEventDefinition>",
            "refused",
        ),
    ],
)
def test_a_bad_timer_is_refused_when_the_diagram_loads(definition: str, detail: str) -> None:
    with pytest.raises(DiagramError, match=detail) as refused:
        load_definition(_diagram(definition), filename="bad.bpmn")
    assert refused.value.element_id == "four_hours"
