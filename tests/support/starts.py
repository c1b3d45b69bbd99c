"""Small processes beside the ticket flow, for the tests of their starts (API, timer, message)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from service.context import Context
from service.db import transaction
from service.processes.definitions import latest_definition
from service.timers.models import DueTimer
from service.timers.schedule import schedule_starts

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="side_definitions" targetNamespace="http://bpmn.io/schema/bpmn">'
)


def side_process(key: str, *, start: str = "", topic: str = "maintenance.open_due", extra: str = "") -> bytes:
    """A process `key`: its start event (holding `start`, an event definition or nothing), one service task of
    `topic`, an end event."""
    return (
        f'{HEAD}{extra}<bpmn:process id="{key}" isExecutable="true">'
        f'<bpmn:startEvent id="begin">{start}</bpmn:startEvent>'
        f'<bpmn:serviceTask id="work" camunda:type="external" camunda:topic="{topic}" />'
        '<bpmn:endEvent id="end" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="work" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


def cycle(text: str) -> str:
    return f"<bpmn:timerEventDefinition><bpmn:timeCycle>{text}</bpmn:timeCycle></bpmn:timerEventDefinition>"


def schedule_shipped(ctx: Context, key: str, *, now: datetime) -> None:
    """Schedule the timer start events of the newest version of a shipped process, as its deployment does (the
    test data leaves them unscheduled)."""
    with transaction(ctx.sessions) as session:
        row = latest_definition(session, key=key)
        schedule_starts(session, row=row, parsed=ctx.definitions.get(row), now=now)


def start_rows(ctx: Context) -> list[DueTimer]:
    """The due-timer rows of timer start events, oldest first."""
    with transaction(ctx.sessions) as session:
        rows = list(session.scalars(select(DueTimer).where(DueTimer.instance_id.is_(None)).order_by(DueTimer.id)))
        session.expunge_all()
    return rows
