"""Rows a step writes past the ORM's unit of work (`insert_object`, `write_changes`): what the database holds is what
the objects hold, the flush has nothing left to write, a stale version is refused, and the changed rows of one table
are written by one statement."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from bench.steps import counting
from service.context import Context
from service.db import transaction
from service.processes.models import ProcessInstance
from service.rows import insert_object, write_changes
from service.tasks.models import UserTask
from service.tickets.models import Ticket
from service.worker import drain
from tests.integration.conftest import Api


def _opened(api: Api) -> str:
    return str(api.open_ticket()["number"])


def test_changed_columns_are_written_at_once_and_the_flush_has_nothing_left(api: Api) -> None:
    number = _opened(api)
    with transaction(api.ctx.sessions) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        ticket.summary, ticket.route = "Controller B replaced", ticket.route  # the route set to what it was
        with counting() as written:
            write_changes(session, ticket)
        with counting() as flushed:
            session.flush()
    (sets,) = [text.split(" SET ")[1].split(" WHERE ")[0] for text in written.texts if text.startswith("UPDATE")]
    assert "summary" in sets and "route" not in sets
    assert flushed.total == 0, flushed.texts
    with api.ctx.sessions() as session:
        assert session.scalar(select(Ticket.summary).where(Ticket.number == number)) == "Controller B replaced"


def test_rows_of_one_table_are_one_statement_whichever_columns_each_changed(api: Api) -> None:
    numbers = [_opened(api) for _ in range(3)]
    with transaction(api.ctx.sessions) as session:
        tickets = list(session.scalars(select(Ticket).where(Ticket.number.in_(numbers))))
        expected = {}
        for ticket in tickets[:2]:
            ticket.summary = f"checked {ticket.number}"
            expected[ticket.number] = (ticket.summary, ticket.severity)
        tickets[2].severity = "critical"  # another column than the others changed; its summary stays
        expected[tickets[2].number] = (tickets[2].summary, "critical")
        with counting() as written:
            write_changes(session, *tickets)
        with counting() as flushed:
            session.flush()
    assert sum(text.startswith("UPDATE ticket") for text in written.texts) == 1, written.texts
    assert flushed.total == 0, flushed.texts
    with api.ctx.sessions() as session:
        rows = session.execute(select(Ticket.number, Ticket.summary, Ticket.severity).where(Ticket.number.in_(numbers)))
        assert {number: (summary, severity) for number, summary, severity in rows} == expected


def test_a_versioned_row_counts_its_version_up_and_refuses_a_stale_one(api: Api) -> None:
    number = _opened(api)
    with transaction(api.ctx.sessions) as session:
        instance = session.scalar(
            select(ProcessInstance).join(Ticket, Ticket.id == ProcessInstance.ticket_id).where(Ticket.number == number)
        )
        assert instance is not None
        version = instance.lock_version
        instance.completed = False  # unchanged: nothing to write
        write_changes(session, instance)
        assert instance.lock_version == version
        instance.document = instance.document + " "
        write_changes(session, instance)
        assert instance.lock_version == version + 1
    with transaction(api.ctx.sessions) as session:  # another writer moves the version on
        session.execute(
            update(ProcessInstance).where(ProcessInstance.id == instance.id).values(lock_version=version + 5)
        )
    with pytest.raises(StaleDataError), transaction(api.ctx.sessions) as session:  # rolled back
        session.add(instance)
        instance.document = instance.document.rstrip()
        write_changes(session, instance)


def test_a_new_object_is_inserted_with_what_the_database_gave_it(ctx: Context, api: Api) -> None:
    model = _opened(api)
    with transaction(ctx.sessions) as session:
        source = session.scalar(select(Ticket).where(Ticket.number == model))
        assert source is not None
        ticket = Ticket(
            client_id=source.client_id,
            contact_id=source.contact_id,
            channel="email",
            summary="Fan noise",
            created_by="duty",
        )
        insert_object(session, ticket)
        assert ticket.id is not None and ticket.number == f"SD-{ticket.id:06d}"  # computed by the database
        assert ticket.status == "new" and ticket.created_at is not None  # the column defaults
        assert ticket.client is source.client  # from the session
        with counting() as flushed:
            session.flush()
        assert flushed.total == 0, flushed.texts
        number = ticket.number
    with ctx.sessions() as session:
        assert session.scalar(select(Ticket.summary).where(Ticket.number == number)) == "Fan noise"


def test_ended_rows_and_new_ones_are_one_statement_and_an_ended_row_keeps_the_rest_of_its_columns(api: Api) -> None:
    number = _opened(api)
    drain(api.ctx)
    task_id = api.task(number, "clarify", as_="duty")["id"]
    with counting() as seen:
        done = api.post(f"/tasks/{task_id}/complete", as_="duty", json={"data": {"description": "Controller B"}})
    assert done.status_code == 200, done.get_json()
    assert sum(text.startswith("INSERT INTO user_task") for text in seen.texts) == 1, "\n".join(seen.texts)
    assert not [text for text in seen.texts if text.startswith("UPDATE user_task")], "\n".join(seen.texts)
    with api.ctx.sessions() as session:
        tasks = {
            task.name: task for task in session.scalars(select(UserTask).join(Ticket).where(Ticket.number == number))
        }
    clarify = tasks["clarify"]
    assert (clarify.id, clarify.state, clarify.completed_by) == (task_id, "completed", "duty")
    assert clarify.ended_at is not None and clarify.created_at < clarify.ended_at and clarify.form  # kept as it was
    assert [name for name, task in tasks.items() if task.state == "open"] == ["resolve"]
