"""One read of each thing per step: a completion reads its task, ticket and clocks once and refreshes the clocks
once, so an engineering team's completion (not claimed first) is the reaction in that one refresh."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from sqlalchemy import select

from bench.steps import counting
from service.sla.calendars import aware
from service.sla.models import REACTION, Segment, SlaClock, SlaEvent
from service.sla.timeline import clocks_beside_latest_segment, timeline_of
from service.tasks import services as tasks_services
from service.tickets.models import Ticket
from service.worker import drain, run_one_job
from tests.integration.conftest import Api
from tests.support.sla import at, plain_friday

#: The first escalation (resolve, outcome escalate) by the first engineering team: the token; the instance lock
#: (SQLite: BEGIN IMMEDIATE); the task with its instance, ticket, client, contracts, candidates, the instance's open
#: tasks and the ticket's timeline with its clocks; the instance; the decision; the ended and the new task (one
#: statement) and its group; the ticket; the closed and the new segment (one statement); the clocks (one statement:
#: the reaction stops, the resolution counts on); the due warnings and breaches moved (one statement, nothing read
#: first); the step's history.
ESCALATION_STATEMENTS = 12


def _escalation_ready(api: Api) -> str:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {"description": "Controller B"}, as_="duty")
    drain(api.ctx)
    return number


def test_an_escalation_reads_nothing_twice_and_stays_within_its_statements(api: Api) -> None:
    api.ctx.rules.refresh_seconds = 60.0  # as in service: the active rule versions are looked up once a second
    friday = plain_friday(date.today() + timedelta(days=3))
    with time_machine.travel(at(friday, 10), tick=False) as clock:
        warm, number = _escalation_ready(api), _escalation_ready(api)
        api.complete(warm, "resolve", {"outcome": "escalate"}, as_="storage.l1")  # fills the process's caches
        task_id = api.task(number, "resolve", as_="storage.l1")["id"]
        clock.move_to(at(friday, 10, 40))  # both clocks move: the reaction stops, the resolution counts on
        with counting() as seen:
            done = api.post(f"/tasks/{task_id}/complete", as_="storage.l1", json={"data": {"outcome": "escalate"}})
    assert done.status_code == 200, done.get_json()
    reads = [text for text in seen.texts if text.lstrip().upper().startswith("SELECT")]
    assert len(reads) == len(set(reads)), "\n".join(reads)  # no query sent twice in one step
    tables = [text.split(" FROM ", 1)[1].split()[0] for text in reads if " FROM " in text]
    assert not {"sla_segment", "sla_clock", "sla_event", "history_event"} & set(tables), "\n".join(reads)  # none
    # The instance's document (ten kilobytes) is read once: by the lock on PostgreSQL, with the rows on SQLite.
    assert sum("process_instance.document" in text for text in reads) == 1, "\n".join(reads)
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


def test_the_timeline_read_gives_each_clock_once_beside_the_latest_segment(api: Api) -> None:
    number = _escalation_ready(api)
    api.complete(number, "resolve", {"outcome": "escalate"}, as_="storage.l1")
    with api.ctx.sessions() as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        segments = list(session.scalars(select(Segment).where(Segment.ticket_id == ticket_id).order_by(Segment.id)))
        clocks = list(session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket_id)))
        assert len(segments) >= 3 and len(clocks) == 2
        read = select(Segment, SlaClock).outerjoin(SlaClock, clocks_beside_latest_segment())
        rows = session.execute(read.where(Segment.ticket_id == ticket_id)).tuples().all()
        assert len(rows) == len(segments) + len(clocks) - 1  # not one a segment and clock
        assert [clock for segment, clock in rows if clock is not None and segment is not segments[-1]] == []
        found = timeline_of(rows)
        assert found is not None
        assert found[0] == segments and {clock.id for clock in found[1]} == {clock.id for clock in clocks}


def test_a_completions_read_gives_the_timeline_in_rows_of_its_own(api: Api) -> None:
    number = _escalation_ready(api)
    api.complete(number, "resolve", {"outcome": "escalate"}, as_="storage.l1")
    task_id = api.task(number, "resolve", as_="storage.l2")["id"]
    with api.ctx.sessions() as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        segments = session.scalars(select(Segment.id).where(Segment.ticket_id == ticket_id)).all()
        postgres = api.ctx.engine.dialect.name == "postgresql"
        read = tasks_services._TASK_UNDER_LOCK if postgres else tasks_services._TASK_UNDER_LOCK_SQLITE  # noqa: SLF001
        rows = session.execute(read, {"task_id": task_id, "ticket_id": ticket_id}).unique().all()
    with_task = [row for row in rows if row[0] is not None]
    assert [row[0].id for row in with_task] == [task_id]  # the ticket's one open task, once
    assert all(row[1] is None and row[2] is None for row in with_task)  # its row holds none of the timeline
    timeline = [row for row in rows if row[0] is None]
    assert len(timeline) == len(segments) + 2 - 1  # each segment, the two clocks beside the latest
    found = timeline_of((row[1], row[2]) for row in rows)
    assert found is not None and [segment.id for segment in found[0]] == sorted(segments) and len(found[1]) == 2


#: The first job of a new ticket, with the chain its completion makes ready, through one worker's run: the claim
#: (the expired leases put back, then one UPDATE of the first due job); then one transaction for the effect and the
#: step (the instance lock; the job with its ticket, client, contracts, the instance's open tasks and the SLA
#: timeline with its clocks, in one query; the chain's known jobs, read once; a mail's recipients; the instance, the
#: ticket, the job done, the new task and its group; the closed and the new segment; the finished jobs; the step's,
#: the job's and its chain's history in one statement). On SQLite each transaction's BEGIN IMMEDIATE among them.
JOB_STATEMENTS = {"sqlite": 17, "postgresql": 14}


def test_a_job_and_its_chain_read_the_ticket_once_a_transaction(api: Api) -> None:
    assert api.ctx.config.job_chain
    api.open_ticket()  # the first fills the caches (definitions, rules, levels)
    drain(api.ctx)
    api.open_ticket()
    with counting() as seen:
        outcome = run_one_job(api.ctx)  # in a context of its own, as the worker runs it
    assert outcome is not None and outcome.chain, outcome  # the job ran, and its chain with it
    reads = [" ".join(text.split()) for text in seen.texts if text.lstrip().upper().startswith("SELECT")]
    reads_ticket = [text for text in reads if " FROM ticket " in text or " JOIN ticket " in text]
    assert len(reads_ticket) == 1, "\n".join(reads)  # with the job: the effect's read serves the step
    assert sum(1 for text in seen.texts if text.startswith("INSERT INTO history_event")) == 1, "\n".join(seen.texts)
    assert len([text for text in reads if "job.task_id IN" in text]) <= 1, "\n".join(reads)
    assert seen.total <= JOB_STATEMENTS[api.ctx.engine.dialect.name], "\n".join(seen.texts)
