"""Planned preventive maintenance: the shipped process, started by its daily timer, opens one maintenance ticket per
covered item of each contract whose maintenance is due, once per period, and moves the contract's date on."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from service.clients.models import Contract
from service.contracts.maintenance import add_months, next_due
from service.db import transaction, utcnow
from service.tickets.models import Ticket
from service.timers.firing import run_due_timer
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.starts import schedule_shipped, start_rows

KEY = "preventive-maintenance"
#: The demo contract C-NORD-1 covers storage, servers and network: the bank's three items.
NORD_ITEMS = ["CISCO-C9300-0001", "DELL-R750-0001", "IBM-FS5200-0001"]


def _plan(api: Api, number: str, *, every: int | None, next_on: date | None) -> None:
    body: dict[str, Any] = {"maintenance_every_months": every, "maintenance_next_on": next_on and next_on.isoformat()}
    response = api.call("PATCH", f"/contracts/{number}", as_="admin", json=body, headers={"If-Match": "*"})
    assert response.status_code == 200, response.get_json()


def _maintenance_tickets(api: Api) -> list[tuple[str, str]]:
    with transaction(api.ctx.sessions) as session:
        rows = session.scalars(select(Ticket).where(Ticket.category == "maintenance").order_by(Ticket.id))
        return [(t.equipment.serial if t.equipment else "", t.channel) for t in rows]


def _next_on(api: Api, number: str) -> date | None:
    with transaction(api.ctx.sessions) as session:
        return session.scalar(select(Contract.maintenance_next_on).where(Contract.number == number))


def _run(api: Api) -> None:
    response = api.post(f"/process-definitions/{KEY}/start", as_="owner", json={})
    assert response.status_code == 201, response.get_json()
    drain(api.ctx)
    state = api.get(f"/process-instances/{response.get_json()['id']}", as_="owner").get_json()["state"]
    assert state == "completed"


def test_a_due_contract_gets_one_ticket_per_covered_item_once(api: Api) -> None:
    today = utcnow().date()
    _plan(api, "C-NORD-1", every=3, next_on=today)
    _plan(api, "C-MEGA-1", every=6, next_on=today + timedelta(days=10))  # not due yet
    _run(api)
    opened = _maintenance_tickets(api)
    assert sorted(serial for serial, _ in opened) == NORD_ITEMS
    assert {channel for _, channel in opened} == {"planned"}
    assert _next_on(api, "C-NORD-1") == add_months(today, 3)
    assert _next_on(api, "C-MEGA-1") == today + timedelta(days=10)
    _run(api)  # the same day again: nothing more
    assert len(_maintenance_tickets(api)) == 3
    _plan(api, "C-NORD-1", every=3, next_on=today)  # the date put back: the period's visits are done already
    _run(api)
    assert len(_maintenance_tickets(api)) == 3


def test_the_tickets_go_through_the_ticket_flow(api: Api) -> None:
    _plan(api, "C-NORD-1", every=1, next_on=utcnow().date() - timedelta(days=40))  # late: one period, not two
    _run(api)
    with transaction(api.ctx.sessions) as session:
        numbers = list(session.scalars(select(Ticket.number).where(Ticket.category == "maintenance")))
    assert len(numbers) == 3
    for number in numbers:
        ticket = api.ticket(number or "")
        assert [task["name"] for task in ticket["open_tasks"]] == ["clarify"]
        assert [e["kind"] for e in api.history(number or "")][0] == "ticket_opened"
    assert (_next_on(api, "C-NORD-1") or date.min) > utcnow().date()


def test_contracts_without_maintenance_or_not_in_force_get_none(api: Api) -> None:
    today = utcnow().date()
    _plan(api, "C-GOV-1", every=1, next_on=today - timedelta(days=60))  # ended 30 days ago
    _run(api)
    assert _maintenance_tickets(api) == []


def test_the_daily_timer_starts_the_run(api: Api) -> None:
    _plan(api, "C-MEGA-1", every=12, next_on=utcnow().date())
    schedule_shipped(api.ctx, KEY, now=utcnow())
    [row] = start_rows(api.ctx)
    assert row.due_at > utcnow() and row.due_at - utcnow() <= timedelta(days=1)
    assert (row.due_at.hour, row.due_at.minute) == (3, 0)
    assert run_due_timer(api.ctx, now=row.due_at) is not None
    assert run_due_timer(api.ctx, now=row.due_at) is None
    drain(api.ctx)
    assert _maintenance_tickets(api) == [("DELL-R740-0002", "planned")]
    [moved] = start_rows(api.ctx)
    assert moved.due_at == row.due_at + timedelta(days=1)


def test_the_schedule_arithmetic() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert next_due(date(2026, 1, 10), 1, date(2026, 3, 20)) == date(2026, 4, 10)
    assert next_due(date(2026, 1, 10), 6, date(2026, 1, 10)) == date(2026, 7, 10)
