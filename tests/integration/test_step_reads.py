"""One read of each thing per step: a completion reads its task, ticket and clocks once and refreshes the clocks
once, so an engineering team's completion (not claimed first) is the reaction in that one refresh."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from sqlalchemy import select

from bench.steps import counting
from service.sla.calendars import aware
from service.sla.models import REACTION, SlaClock, SlaEvent
from service.tickets.models import Ticket
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.sla import at, plain_friday

#: The first escalation (resolve, outcome escalate) by the first engineering team: the token; the instance lock
#: (SQLite: BEGIN IMMEDIATE); the task with its instance, ticket, client, contracts, candidates and the instance's
#: open tasks; the decision; the instance, ticket, ended and new task and its group; the timeline with the clocks;
#: the closed and the new segment; the due events (the reaction stops); the step's history; the clocks; the events.
ESCALATION_STATEMENTS = 17


def _escalation_ready(api: Api) -> str:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {"description": "Controller B"}, as_="duty")
    drain(api.ctx)
    return number


def test_an_escalation_reads_nothing_twice_and_stays_within_its_statements(api: Api) -> None:
    api.ctx.rules.refresh_seconds = 60.0  # as in service: the active rule versions are looked up once a second
    warm, number = _escalation_ready(api), _escalation_ready(api)
    api.complete(warm, "resolve", {"outcome": "escalate"}, as_="storage.l1")  # fills the process's caches
    task_id = api.task(number, "resolve", as_="storage.l1")["id"]
    with counting() as seen:
        done = api.post(f"/tasks/{task_id}/complete", as_="storage.l1", json={"data": {"outcome": "escalate"}})
    assert done.status_code == 200, done.get_json()
    reads = [text for text in seen.texts if text.lstrip().upper().startswith("SELECT")]
    assert len(reads) == len(set(reads)), "\n".join(reads)  # no query sent twice in one step
    tables = [text.split(" FROM ", 1)[1].split()[0] for text in reads if " FROM " in text]
    assert tables.count("sla_clock") == 0 and tables.count("history_event") == 0, "\n".join(reads)
    assert seen.total <= ESCALATION_STATEMENTS, "\n".join(seen.texts)


def test_an_engineering_completion_without_a_claim_stops_the_reaction_clock(api: Api) -> None:
    friday = plain_friday(date.today() + timedelta(days=3))
    with time_machine.travel(at(friday, 10), tick=False) as clock:
        number = _escalation_ready(api)
        assert api.ticket(number)["sla"]["reaction"]["stopped_at"] is None
        clock.move_to(at(friday, 10, 40))
        api.complete(number, "resolve", {"outcome": "escalate"}, as_="storage.l1")
        with api.ctx.sessions() as session:  # as stored by the step (the ticket's page figures them afresh)
            ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
            query = select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.kind == REACTION)
            stored = session.scalars(query).one()
            due = session.scalars(select(SlaEvent).where(SlaEvent.ticket_id == ticket_id, SlaEvent.clock == REACTION))
            assert aware(stored.stopped_at) == at(friday, 10, 40) and stored.state == "met"
            assert [event.due_at for event in due] == [None, None]  # no warning or breach left to fire
        kinds = [event["kind"] for event in api.history(number)]
        assert kinds.index("task_completed") > kinds.index("decision")  # the step's history, in its order
