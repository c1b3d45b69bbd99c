"""Timers on the ticket flow: the due-timer table each step keeps, and the worker firing it once, at the moment."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from service.db import transaction
from service.timers.firing import run_due_timer
from service.timers.models import DROPPED, FIRED, WAITING, DueTimer
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.diagrams import insert_step, ticket_xml
from tests.support.timers import PAUSE, SET_PAUSE, timer, with_boundary

XML = {"Content-Type": "application/xml"}
CLARIFY = {"description": "Controller B failed"}


def deploy(api: Api, xml: bytes) -> None:
    response = api.post("/process-definitions", as_="owner", data=xml, headers=XML)
    assert response.status_code == 201, response.get_json()


def _ticket_waiting_on_clarify(api: Api) -> str:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    assert [t["name"] for t in api.ticket(number)["open_tasks"]] == ["clarify"]
    return str(number)


def _rows(api: Api) -> list[DueTimer]:
    with transaction(api.ctx.sessions) as session:
        rows = list(session.scalars(select(DueTimer).where(DueTimer.ticket_id.is_not(None)).order_by(DueTimer.id)))
        session.expunge_all()
    return rows


def test_an_interrupting_boundary_timer_fires_once_at_its_moment_and_moves_the_ticket_on(api: Api) -> None:
    deploy(api, with_boundary(interrupting=True))
    number = _ticket_waiting_on_clarify(api)
    [row] = _rows(api)
    assert (row.element_id, row.kind, row.state) == ("clarify_timer", "timeDuration", WAITING)
    assert run_due_timer(api.ctx, now=row.due_at - timedelta(seconds=1)) is None  # not yet
    fired = run_due_timer(api.ctx, now=row.due_at)
    assert fired is not None and fired.outcome == "fired"
    assert run_due_timer(api.ctx, now=row.due_at + timedelta(days=1)) is None  # once
    [row] = _rows(api)
    assert (row.state, row.fired_count) == (FIRED, 1)
    assert [t["name"] for t in api.ticket(number)["open_tasks"]] == ["clarify_late"]
    assert [e["kind"] for e in api.history(number)].count("timer_fired") == 1
    api.complete(number, "clarify_late", {}, as_="manager")
    assert [t["name"] for t in api.ticket(number)["open_tasks"]] == ["resolve"]


def test_a_non_interrupting_boundary_timer_keeps_the_task_open(api: Api) -> None:
    deploy(api, with_boundary(interrupting=False, duration="P2D"))
    number = _ticket_waiting_on_clarify(api)
    [row] = _rows(api)
    fired = run_due_timer(api.ctx, now=row.due_at)
    assert fired is not None and fired.outcome == "fired"
    assert [t["name"] for t in api.ticket(number)["open_tasks"]] == ["clarify"]
    api.complete(number, "clarify", CLARIFY, as_="duty")
    assert [t["name"] for t in api.ticket(number)["open_tasks"]] == ["resolve"]
    assert [row.state for row in _rows(api)] == [FIRED]


def test_completing_the_task_first_drops_its_timer(api: Api) -> None:
    deploy(api, with_boundary(interrupting=True))
    number = _ticket_waiting_on_clarify(api)
    api.complete(number, "clarify", CLARIFY, as_="duty")
    [row] = _rows(api)
    assert row.state == DROPPED
    assert run_due_timer(api.ctx, now=row.due_at + timedelta(days=1)) is None
    assert [t["name"] for t in api.ticket(number)["open_tasks"]] == ["resolve"]


def test_an_intermediate_timer_holds_the_flow_until_fired(api: Api) -> None:
    xml = insert_step(ticket_xml(), after="notify_duty_officers", step=PAUSE.format(timer("timeDuration", "${pause}")))
    deploy(api, insert_step(xml, after="start", step=SET_PAUSE))
    number = api.open_ticket()["number"]
    drain(api.ctx)
    assert api.ticket(number)["open_tasks"] == []
    [row] = _rows(api)
    assert row.element_id == "cool_down"
    run_due_timer(api.ctx, now=row.due_at)
    assert [t["name"] for t in api.ticket(number)["open_tasks"]] == ["clarify"]


def test_a_late_timer_fires_once_when_the_worker_returns(api: Api) -> None:
    deploy(api, with_boundary(interrupting=True))
    number = _ticket_waiting_on_clarify(api)
    [row] = _rows(api)
    back = row.due_at + timedelta(days=3)  # the worker was down past the due moment
    outcomes = [run_due_timer(api.ctx, now=back), run_due_timer(api.ctx, now=back)]
    assert [o.outcome if o else None for o in outcomes] == ["fired", None]
    assert [e["kind"] for e in api.history(number)].count("timer_fired") == 1


def test_two_workers_racing_fire_each_timer_once(api: Api) -> None:
    deploy(api, with_boundary(interrupting=True))
    numbers = [api.open_ticket()["number"] for _ in range(6)]
    drain(api.ctx)
    rows = _rows(api)
    assert len(rows) == len(numbers)
    now = max(row.due_at for row in rows)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def work(name: str) -> None:
        start.wait()
        while (fired := run_due_timer(api.ctx, worker=name, now=now)) is not None:
            outcomes.append(fired.outcome)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("fired") == len(numbers)
    assert [(row.state, row.fired_count) for row in _rows(api)] == [(FIRED, 1)] * len(numbers)
    for number in numbers:
        assert [e["kind"] for e in api.history(number)].count("timer_fired") == 1
        assert [t["name"] for t in api.ticket(number)["open_tasks"]] == ["clarify_late"]
