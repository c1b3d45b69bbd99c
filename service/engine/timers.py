"""Timer events: ISO 8601 dates, durations and cycles (or ``${...}`` expressions giving one), fired on command.

SpiffWorkflow's own timers evaluate their text as Python and compare it with the wall clock whenever the engine
runs. Ours read a literal ISO text as it is written and an expression through the restricted evaluator, take the
moment a timer starts from the script engine's clock (``RestrictedScriptEngine.now``), and fire only up to the
engine's horizon (``RestrictedScriptEngine.fire_until``): None, as in every ordinary step, fires nothing, so a
timer fires only in the step the worker takes for its row of the due-timer table, at the moment it names.

Naive dates are read as UTC (the service's clock), not as the server's local time.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from .budget import BudgetExceeded, ScriptLimits
from .errors import EngineError
from .scripting import DEFAULT_LIMITS, UnsafeCode, has_expression, parse_template, render_template

TIME_DATE, TIME_DURATION, TIME_CYCLE = "timeDate", "timeDuration", "timeCycle"
KINDS = (TIME_DATE, TIME_DURATION, TIME_CYCLE)
_DURATION = re.compile(
    r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$"
)
_CYCLE = re.compile(r"^R(\d*)/(.+)$")


class TimerError(ValueError):
    """A timer text that is not an ISO 8601 date, duration or cycle (or an expression that gave none)."""


@dataclass(frozen=True)
class TimerSpec:
    """What a timer event declares: `kind` (timeDate, timeDuration, timeCycle) and its text."""

    kind: str
    text: str


@dataclass(frozen=True)
class Cycle:
    """A repeating timer: `repeats` more firings (-1: without end), the first at `first`, then every `every`."""

    repeats: int
    first: datetime
    every: timedelta


@dataclass(frozen=True)
class WaitingTimer:
    """A timer event the instance waits on: the task, its element, its kind and when it is due (UTC)."""

    id: str
    element_id: str
    kind: str
    due_at: datetime


# --- the ISO 8601 forms ------------------------------------------------------------------------------


def from_iso(text: str) -> datetime:
    """`datetime.fromisoformat`, also of a time ending in `Z` (UTC), as diagrams write it and as Python 3.10's does
    not read it; ValueError for anything else."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def parse_date(text: str) -> datetime:
    """An ISO 8601 date-time (a bare date is its midnight), in UTC; naive ones are read as UTC."""
    try:
        moment = from_iso(text)
    except ValueError:
        raise TimerError(f"{text!r} is not an ISO 8601 date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def add_duration(text: str, start: datetime) -> datetime:
    """`start` moved on by the ISO 8601 duration `text` (``P1Y2M3DT4H5M6S``, ``P2W``): calendar months and years."""
    found = _DURATION.match(text.strip().upper())
    if found is None:
        raise TimerError(f"{text!r} is not an ISO 8601 duration")
    years, months, weeks, days, hours, minutes = (int(part or 0) for part in found.groups()[:6])
    seconds = float((found.group(7) or "0").replace(",", "."))
    total_months = start.month - 1 + months + 12 * years
    year, month = start.year + total_months // 12, total_months % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    moved = start.replace(year=year, month=month, day=day)
    return moved + timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


def parse_cycle(text: str, start: datetime) -> Cycle:
    """An ISO 8601 repeating interval: ``R3/PT10M`` (from `start`), ``R/2026-12-01T09:00Z/P1D`` (from a date)."""
    found = _CYCLE.match(text.strip().upper())
    if found is None:
        raise TimerError(f"{text!r} is not an ISO 8601 cycle (R<n>/<duration>, R<n>/<date>/<duration>)")
    repeats = int(found.group(1)) if found.group(1) else -1
    parts = found.group(2).split("/")
    if len(parts) == 1:
        first = add_duration(parts[0], start)
        return Cycle(repeats, first, first - start)
    if len(parts) == 2 and not parts[0].startswith("P"):
        begin = parse_date(parts[0])
        return Cycle(repeats, begin, add_duration(parts[1], begin) - begin)
    raise TimerError(f"{text!r} is not an ISO 8601 cycle (R<n>/<duration>, R<n>/<date>/<duration>)")


def first_due(kind: str, value: str, start: datetime) -> datetime:
    """When a timer of `kind` with the ISO text `value`, started at `start`, is first due."""
    if kind == TIME_DATE:
        return parse_date(value)
    if kind == TIME_DURATION:
        return add_duration(value, start)
    return parse_cycle(value, start).first


def check_timer(spec: TimerSpec) -> None:
    """Refuse a timer whose literal text is not of its kind, or whose expression is not restricted code."""
    if spec.kind not in KINDS:
        raise TimerError(f"unknown timer kind {spec.kind!r}")
    if not spec.text.strip():
        raise TimerError(f"an empty {spec.kind}")
    if has_expression(spec.text):
        try:
            parse_template(spec.text)
        except UnsafeCode as err:
            raise TimerError(f"refused expression {spec.text!r}: {err.detail}") from None
        return
    first_due(spec.kind, spec.text, datetime(2000, 1, 1, tzinfo=timezone.utc))


def check_timer_event(node: etree._Element, tag: str, definition: etree._Element) -> TimerSpec:
    """The timer of a `tag` event (`node`) with this ``timerEventDefinition``, checked (raises TimerError).

    A cycle repeats only where repeating means something: on a start event or a non-interrupting boundary event.
    A timer after an event-based gateway is refused: the gateway would wait on it without a due-timer row.
    """
    parts = [child for child in definition if isinstance(child.tag, str) and etree.QName(child).localname in KINDS]
    if len(parts) != 1:
        raise TimerError("a timer needs exactly one of timeDate, timeDuration, timeCycle")
    spec = TimerSpec(etree.QName(parts[0]).localname, (parts[0].text or "").strip())
    interrupting = node.get("cancelActivity", "true") != "false"
    if spec.kind == TIME_CYCLE and (tag == "intermediateCatchEvent" or (tag == "boundaryEvent" and interrupting)):
        raise TimerError("a timeCycle repeats only on a start event or a non-interrupting boundary event")
    parent = node.getparent()
    for flow in parent.iter() if parent is not None else ():
        if isinstance(flow.tag, str) and flow.get("targetRef") == node.get("id"):
            source = next((n for n in parent if n.get("id") == flow.get("sourceRef")), None)
            if source is not None and etree.QName(source).localname == "eventBasedGateway":
                raise TimerError("a timer after an event-based gateway is not supported")
    check_timer(spec)
    return spec


def timer_text(spec_text: str, data: dict[str, Any], limits: ScriptLimits = DEFAULT_LIMITS) -> str:
    """The ISO text of a timer: the literal, or what its ``${...}`` gives (a datetime gives its ISO form)."""
    if not has_expression(spec_text):
        return spec_text.strip()
    value = render_template(spec_text, data, limits)
    if isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        raise TimerError(f"the expression {spec_text!r} gave {value!r}, not an ISO 8601 text")
    return value.strip()


# --- the event definitions the parser builds --------------------------------------------------------


def _engine(my_task: Any) -> Any:
    return my_task.workflow.top_workflow.script_engine


def _now(my_task: Any) -> datetime:
    clock = getattr(_engine(my_task), "now", None)
    return clock() if clock is not None else datetime.now(timezone.utc)


def _horizon(my_task: Any) -> datetime | None:
    horizon: datetime | None = getattr(_engine(my_task), "fire_until", None)
    return horizon


def _started(my_task: Any, kind: str, text: str) -> Any:
    """The timer's first moment (a Cycle for a cycle), from now; a failure names the event's element."""
    limits = getattr(_engine(my_task), "limits", DEFAULT_LIMITS)
    try:
        value = timer_text(text, my_task.data, limits)
        return parse_cycle(value, _now(my_task)) if kind == TIME_CYCLE else first_due(kind, value, _now(my_task))
    except Exception as err:
        from .specs import element_of, filename_of  # here: specs reads the diagram module, which reads this one

        detail = f"the timer failed: {type(err).__name__}: {err}"
        budget = isinstance(err, BudgetExceeded)
        raise EngineError(element_of(my_task), filename_of(my_task), detail, budget=budget) from err


class _OnceTimer:
    """A date or duration timer: due once, at the moment fixed when its task starts waiting."""

    kind = TIME_DATE
    expression: str

    def has_fired(self, my_task: Any) -> bool:
        due = my_task._get_internal_data("event_value")
        if due is None:
            due = _started(my_task, self.kind, self.expression).isoformat()
            my_task._set_internal_data(event_value=due)
        horizon = _horizon(my_task)
        if horizon is not None and datetime.fromisoformat(due) <= horizon:
            my_task._set_internal_data(event_fired=True)
        fired: bool = my_task._get_internal_data("event_fired", False)
        return fired


class DateTimer(_OnceTimer, TimeDateEventDefinition):  # type: ignore[misc]
    """``timeDate``: due at a date."""

    kind = TIME_DATE


class DurationTimer(_OnceTimer, DurationTimerEventDefinition):  # type: ignore[misc]
    """``timeDuration``: due a duration after its task starts waiting."""

    kind = TIME_DURATION


class CycleTimer(CycleTimerEventDefinition):  # type: ignore[misc]
    """``timeCycle``: due again and again (each firing runs the event's path once more), then done."""

    kind = TIME_CYCLE

    def cycle_complete(self, my_task: Any) -> bool:
        state = my_task._get_internal_data("event_value")
        if state is None:
            cycle = _started(my_task, TIME_CYCLE, self.expression)
            state = {"cycles": cycle.repeats, "next": cycle.first.isoformat(), "duration": cycle.every.total_seconds()}
        ready = False
        horizon = _horizon(my_task)
        if state["cycles"] == 0:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        due = datetime.fromisoformat(state["next"])
        if horizon is not None and due <= horizon:
            state = {**state, "next": (due + timedelta(seconds=state["duration"])).isoformat()}
            state["cycles"] -= 1
            ready = True
        my_task._set_internal_data(event_value=state)
        return ready


TIMER_CLASSES: dict[str, type[TimerEventDefinition]] = {
    TIME_DATE: DateTimer,
    TIME_DURATION: DurationTimer,
    TIME_CYCLE: CycleTimer,
}


def build_timer(name: str, spec: TimerSpec) -> TimerEventDefinition:
    """The event definition of a checked timer."""
    return TIMER_CLASSES[spec.kind](name, spec.text)


def waiting_timers(workflow: Any) -> list[WaitingTimer]:
    """The timer events the workflow waits on, with when each is due, soonest first."""
    found = []
    for task in list(workflow.event_manager.tasks.values()):
        if task.state == TaskState.WAITING:
            timer = waiting_timer(task)
            if timer is not None:
                found.append(timer)
    return sorted(found, key=lambda timer: (timer.due_at, timer.id))


def waiting_timer(task: Any) -> WaitingTimer | None:
    """What a waiting task's timer is due at (None when the task waits on no timer of ours, or is done)."""
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, (_OnceTimer, CycleTimer)):
        return None
    value = task._get_internal_data("event_value")
    if value is None or task._get_internal_data("event_fired", False):
        return None
    due = value["next"] if isinstance(value, dict) else value
    element = getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
    return WaitingTimer(str(task.id), element, definition.kind, datetime.fromisoformat(due))


#: How the serializer writes our timers (their text, as SpiffWorkflow's own).
TIMER_CONVERTERS: dict[type, type] = {cls: TimerConditionalEventDefinitionConverter for cls in TIMER_CLASSES.values()}
