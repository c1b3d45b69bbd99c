"""The bulk loader's tickets are real to the service: listed, readable, and their open tasks can be worked on."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from bench.bulk import OPEN_STATES, load
from service.sla.models import SlaClock, SlaEvent
from service.tasks.models import OPEN, TaskCandidate, UserTask
from service.tickets.models import Ticket
from service.worker import drain
from tests.integration.conftest import Api

TICKETS = 200


def _open_tasks_by_queue(api: Api) -> Counter[str]:
    with api.ctx.sessions() as session:
        query = select(TaskCandidate.group_name).join(UserTask).where(UserTask.state == OPEN)
        return Counter(session.scalars(query))


def test_the_loaded_tickets_are_listed_and_read_with_their_state(api: Api) -> None:
    loaded = load(api.ctx, tickets=TICKETS)
    assert loaded.tickets == TICKETS
    listing = api.get("/tickets?page_size=100", as_="admin").get_json()
    assert listing["next"] is not None
    assert len({item["number"] for item in listing["items"]}) == 100
    with api.ctx.sessions() as session:
        numbers = list(session.scalars(select(Ticket.number).order_by(Ticket.id)))
        statuses = Counter(session.scalars(select(Ticket.status)))
        ids = session.scalar(select(func.count(func.distinct(UserTask.id))))
        assert ids == session.scalar(select(func.count()).select_from(UserTask))
        clocks = session.scalar(select(func.count()).select_from(SlaClock))
        pending = session.scalar(select(func.count()).select_from(SlaEvent).where(SlaEvent.due_at.is_not(None)))
    assert len(set(numbers)) == TICKETS
    # about a tenth open, waiting in each of the open queues; the rest closed
    queues = _open_tasks_by_queue(api)
    assert {recipe.queue for recipe in OPEN_STATES} <= set(queues)
    assert sum(queues.values()) == TICKETS // 10 == sum(loaded.open_by_queue.values())
    assert statuses["closed"] == TICKETS - TICKETS // 10
    # every ticket under a service level has its two clocks; only open tickets have due warnings and breaches
    assert clocks == 2 * TICKETS
    assert 0 < pending <= 4 * (TICKETS // 10)
    last = api.ticket(numbers[-1])
    assert last["number"] == numbers[-1]
    assert last["sla"]["resolution"]["state"] in ("met", "running")


def test_an_open_task_of_a_loaded_copy_is_completed_through_the_api(api: Api) -> None:
    load(api.ctx, tickets=TICKETS)
    with api.ctx.sessions() as session:
        query = (
            select(Ticket.number, UserTask.id)
            .join(UserTask, UserTask.ticket_id == Ticket.id)
            .where(UserTask.name == "clarify", UserTask.state == OPEN)
            .order_by(Ticket.id)
        )
        (template, template_task), *copies = session.execute(query).all()
    number, task_id = copies[-1]
    assert task_id != template_task and number != template
    ticket = api.ticket(number)
    assert ticket["status"] == "clarifying"
    assert [task["id"] for task in ticket["open_tasks"]] == [task_id]
    assert ticket["sla"]["reaction"]["state"] == "running"

    done = api.post(f"/tasks/{task_id}/complete", as_="duty", json={"data": {"description": "from a loaded copy"}})
    assert done.status_code == 200, done.get_json()
    drain(api.ctx)
    routed = api.ticket(number)
    assert routed["status"] == "in_progress"
    assert (routed["team"], routed["level"]) == ("storage", 1)
    resolve = routed["open_tasks"][0]
    assert resolve["candidate_groups"] == ["storage-L1"]
    solved = api.post(f"/tasks/{resolve['id']}/complete", as_="storage.l1", json={"data": {"outcome": "solved"}})
    assert solved.status_code == 200, solved.get_json()
    drain(api.ctx)  # the closing e-mail, then the end
    closed = api.ticket(number)
    assert closed["status"] == "closed"
    assert closed["sla"]["reaction"]["state"] == "met"
    # the template and the other copies did not move
    assert api.ticket(template)["status"] == "clarifying"
    assert api.ticket(copies[0][0])["open_tasks"][0]["id"] == copies[0][1]
