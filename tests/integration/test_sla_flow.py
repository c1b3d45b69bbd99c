"""A ticket's clocks through its life, with time travel: business hours, pauses, warnings and breaches fired once at
the right business moment, e-mails, the breach review, and reports that add up."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date, datetime, timedelta

import time_machine
from sqlalchemy import select

from service.sla.firing import drain_events, run_due_event
from service.sla.models import SlaEvent
from service.tickets.models import Ticket
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.sla import at, plain_friday


def _fire(api: Api) -> list[str]:
    """Run the worker's SLA part now; the kinds of the events it fired."""
    drain(api.ctx)
    fired = [f for f in drain_events(api.ctx) if f.outcome == "fired"]
    with api.ctx.sessions() as session:
        events = {e.id: f"{e.clock}.{e.kind}" for e in session.scalars(select(SlaEvent))}
    return [events[f.event_id] for f in fired]


def _history(api: Api, number: str, kind: str) -> list[dict]:
    return [e for e in api.history(number, as_="admin") if e["kind"] == kind]


def test_a_silver_ticket_over_a_weekend_with_a_parts_pause(api: Api, smtp_server) -> None:  # type: ignore[no-untyped-def]
    friday = plain_friday(date.today() + timedelta(days=3))
    with time_machine.travel(at(friday, 17), tick=False) as clock:
        number = api.open_ticket(
            client="MEGA-RETAIL",
            contact_email="it@mega-retail.example",
            equipment_serial="DELL-R740-0002",
            severity="critical",
        )["number"]
        drain(api.ctx)
        api.complete(number, "clarify", {"description": "PSU failed", "category": "hardware"}, as_="duty")
        sla = api.ticket(number)["sla"]
        assert sla["service_level"] == "silver"
        # 2 business hours from Friday 17:00: one on Friday, one on Monday
        assert sla["reaction"]["due_at"] == at(friday, 10, plus_days=3).isoformat()
        assert sla["resolution"]["due_at"] == at(friday, 16, plus_days=3).isoformat()
        smtp_server.clear()

        clock.move_to(at(friday, 12, plus_days=1))  # Saturday noon: nothing, not even after the deadline in hours
        assert _fire(api) == []
        clock.move_to(at(friday, 9, 35, plus_days=3))
        assert _fire(api) == []
        clock.move_to(at(friday, 9, 37, plus_days=3))  # 80 % of the reaction time is Monday 09:36
        assert _fire(api) == ["reaction.warning"]
        assert _fire(api) == []
        clock.move_to(at(friday, 10, 1, plus_days=3))
        assert _fire(api) == ["reaction.breach"]

        clock.move_to(at(friday, 10, 30, plus_days=3))
        task = api.task(number, "resolve", as_="servers.l1")
        assert api.post(f"/tasks/{task['id']}/claim", as_="servers.l1").status_code == 200
        reaction = api.ticket(number)["sla"]["reaction"]
        assert reaction["state"] == "breached" and reaction["stopped_at"] == at(friday, 10, 30, plus_days=3).isoformat()

        clock.move_to(at(friday, 11, plus_days=3))
        api.complete(number, "resolve", {"outcome": "need_parts", "parts": "PSU", "hours": 1}, as_="servers.l1")
        resolution = api.ticket(number)["sla"]["resolution"]
        assert resolution["state"] == "paused" and resolution["due_at"] is None
        assert resolution["remaining_seconds"] == 5 * 3600  # 1 h Friday + 2 h Monday of 8 h are gone

        clock.move_to(at(friday, 17, plus_days=3))  # the warning would have been at 14:24 without the pause
        assert _fire(api) == []
        clock.move_to(at(friday, 10, plus_days=4))
        api.complete(number, "order_parts", {"source": "warehouse"}, as_="rmc")
        clock.move_to(at(friday, 12, plus_days=4))
        message = {"name": "parts_delivered", "ticket": number, "data": {}}
        assert api.post("/messages", as_="rmc", json=message).status_code == 200
        drain(api.ctx)
        resolution = api.ticket(number)["sla"]["resolution"]
        assert resolution["state"] == "running"
        assert resolution["due_at"] == at(friday, 17, plus_days=4).isoformat()
        clock.move_to(at(friday, 15, 23, plus_days=4))
        assert _fire(api) == []
        clock.move_to(at(friday, 15, 25, plus_days=4))
        assert _fire(api) == ["resolution.warning"]
        clock.move_to(at(friday, 16, plus_days=4))
        api.complete(number, "onsite_visit", {"outcome": "solved", "hours": 3}, as_="servers.l1")

        sla = api.ticket(number)["sla"]
        assert sla["resolution"]["state"] == "met"
        assert sla["resolution"]["paused_seconds"] == 10 * 3600  # Monday 11-18 and Tuesday 09-12
        assert sla["resolution"]["elapsed_seconds"] == 7 * 3600
        clock.move_to(at(friday, 12, plus_days=10))
        assert _fire(api) == []

        # history, e-mails and the instance were told once each
        assert [e["detail"]["clock"] for e in _history(api, number, "sla_warning")] == ["reaction", "resolution"]
        [breach] = _history(api, number, "sla_breach")
        assert breach["detail"]["team"] == "servers" and breach["detail"]["delivered"] is False
        mails = [m for m in smtp_server.messages if number in m.subject and "SLA" in m.subject]
        assert len(mails) == 3 and len({m.message_id for m in mails}) == 3
        assert {"servers.l1@orchestrator.example", "manager@orchestrator.example"} <= set(mails[0].recipients)
        assert "SLA breach" in mails[1].subject

        details = api.get(f"/sla/tickets/{number}", as_="admin").get_json()
        assert [p["reason"] for p in details["pauses"]] == ["parts", "parts"]
        assert {(h["team"], h["level"]) for h in details["holds"]} == {("servers", 1)}
        assert sorted((e["kind"], float(e["hours"])) for e in details["time_entries"]) == [
            ("onsite", 1.0),
            ("onsite", 3.0),
        ]

        # the breach review, then the reports
        [review] = api.get("/sla/reviews", as_="manager").get_json()["items"]
        assert review["name"] == "breach_review" and review["ticket"] == number and review["clock"] == "reaction"
        assert {f["id"] for f in review["form"]} == {"reason", "comment"}
        refused = api.post(f"/sla/reviews/{review['id']}/complete", as_="manager", json={"data": {"reason": "late"}})
        assert refused.status_code == 422 and set(refused.get_json()["errors"]["data"]) == {"reason", "comment"}
        assert api.post(f"/sla/reviews/{review['id']}/complete", as_="servers.l1", json={}).status_code in (403, 422)
        # the same review is a task in the managers' queue, and only theirs
        [task] = api.get("/tasks?name=breach_review", as_="manager").get_json()["items"]
        assert task["id"] == f"breach-review-{review['id']}" and task["candidate_groups"] == ["managers"]
        assert task["ticket"] == number and "form" not in task
        detail = api.get(f"/tasks/{task['id']}", as_="manager").get_json()
        assert {f["id"] for f in detail["form"]} == {"reason", "comment"} and detail["title"] == task["title"]
        assert api.get(f"/tasks/{task['id']}", as_="servers.l1").status_code == 404
        listed = api.get("/tasks?page_size=500", as_="servers.l1").get_json()["items"]
        assert all(t["name"] != "breach_review" for t in listed)
        wrong = api.post(f"/tasks/{task['id']}/complete", as_="manager", json={"data": {"reason": "late"}})
        assert wrong.status_code == 422 and set(wrong.get_json()["errors"]) == {"reason", "comment"}
        assert api.post(f"/tasks/{task['id']}/claim", as_="manager").status_code == 200
        data = {"reason": "capacity", "comment": "both L1 engineers were on site elsewhere"}
        done = api.post(f"/tasks/{task['id']}/complete", as_="manager", json={"data": data})
        assert done.status_code == 200 and done.get_json()["ticket"] == number
        assert api.get(f"/sla/reviews/{review['id']}", as_="manager").get_json()["state"] == "completed"
        again = api.post(f"/sla/reviews/{review['id']}/complete", as_="manager", json={"data": data})
        assert again.status_code == 409
        assert api.post(f"/tasks/{task['id']}/complete", as_="manager", json={"data": data}).status_code == 409
        assert api.get("/tasks?name=breach_review", as_="manager").get_json() == {"items": [], "next": None}

        breaches = api.get("/reports/breaches?client=MEGA-RETAIL", as_="manager").get_json()
        assert breaches["summary"] == {"breaches": 1, "by_reason": {"capacity": 1}}
        assert breaches["rows"][0]["ticket"] == number
        report = api.get("/reports/sla?group_by=client,service_level", as_="manager").get_json()
        rows = {row["clock"]: row for row in report["rows"] if row["client"] == "MEGA-RETAIL"}
        assert (rows["reaction"]["met"], rows["reaction"]["breached"]) == (0, 1)
        assert (rows["resolution"]["met"], rows["resolution"]["compliance_percent"]) == (1, 100.0)
        assert rows["resolution"]["average_elapsed_seconds"] == sla["resolution"]["elapsed_seconds"]
        as_csv = api.get("/reports/breaches", as_="manager", headers={"Accept": "text/csv"})
        assert as_csv.mimetype == "text/csv"
        [row] = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
        assert row["ticket"] == number and row["reason"] == "capacity" and row["clock"] == "reaction"


def test_per_call_counts_from_payment_and_a_declined_ticket_has_no_clock(api: Api) -> None:
    friday = plain_friday(date.today() + timedelta(days=3))
    monday = friday + timedelta(days=3)
    new_client = {
        "client": "NEW-CLIENT",
        "contact_email": "it@new-client.example",
        "equipment_serial": "CISCO-C9300-0005",
    }
    with time_machine.travel(at(monday, 10), tick=False) as clock:
        paid = api.open_ticket(**new_client)["number"]
        declined = api.open_ticket(**new_client)["number"]
        drain(api.ctx)
        for number in (paid, declined):
            api.complete(number, "clarify", {"description": "switch down"}, as_="duty")
            api.complete(number, "estimate", {"diagnostics_cost": 12000}, as_="consultant")
        waiting = api.ticket(paid)["sla"]
        assert waiting["service_level"] == "per_call" and waiting["reaction"]["state"] == "paused"
        clock.move_to(at(monday, 10, plus_days=1))
        assert _fire(api) == []
        api.complete(paid, "record_payment", {"accepted": True, "paid": True}, as_="duty")
        api.complete(declined, "record_payment", {"accepted": False}, as_="duty")
        sla = api.ticket(paid)["sla"]
        assert sla["reaction"]["state"] == "running"
        assert sla["reaction"]["due_at"] == at(monday, 18, plus_days=1).isoformat()  # 8 business hours from payment
        assert sla["reaction"]["paused_seconds"] == 9 * 3600  # Monday 10:00 to Tuesday 10:00 in business hours
        gone = api.ticket(declined)
        assert gone["status"] == "declined" and gone["sla"]["resolution"]["state"] == "cancelled"
        clock.move_to(at(monday, 12, plus_days=30))
        fired = _fire(api)
        assert sorted(fired) == sorted(
            ["reaction.warning", "reaction.breach", "resolution.warning", "resolution.breach"]
        )
        assert all(e["detail"]["clock"] for e in _history(api, paid, "sla_breach"))
        assert _history(api, declined, "sla_breach") == []


def test_a_severity_change_recomputes_the_deadlines_from_the_start(api: Api) -> None:
    start = datetime.now().astimezone() + timedelta(days=1)
    with time_machine.travel(start, tick=False) as clock:
        number = api.open_ticket(severity="low")["number"]  # NORD-BANK: gold, 24x7
        drain(api.ctx)
        assert api.ticket(number)["sla"]["reaction"]["target_seconds"] == 8 * 3600
        clock.shift(timedelta(minutes=30))
        api.complete(number, "clarify", {"description": "all paths down", "severity": "critical"}, as_="duty")
        reaction = api.ticket(number)["sla"]["reaction"]
        assert reaction["target_seconds"] == 3600 and reaction["remaining_seconds"] == 1800
        assert datetime.fromisoformat(reaction["due_at"]) == start + timedelta(hours=1)
        clock.shift(timedelta(minutes=19))  # 49 minutes from the start: past the warning at 48
        assert _fire(api) == ["reaction.warning"]


def test_a_worker_that_was_down_fires_late_events_once_even_when_two_run_at_once(api: Api) -> None:
    start = datetime.now().astimezone() + timedelta(days=1)
    with time_machine.travel(start, tick=False) as clock:
        numbers = [api.open_ticket(severity="critical")["number"] for _ in range(3)]
        drain(api.ctx)
        clock.shift(timedelta(hours=10))
        outcomes: list[str] = []

        def work() -> None:
            while (fired := run_due_event(api.ctx)) is not None:
                outcomes.append(fired.outcome)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert outcomes == ["fired"] * 12
        assert drain(api.ctx) == 12  # one e-mail job per event, each sent once
        for number in numbers:
            assert len(_history(api, number, "sla_breach")) == 2
            assert len(_history(api, number, "sla_warning")) == 2
        assert len(api.get("/sla/reviews", as_="manager").get_json()["items"]) == 6
        assert _fire(api) == []


def test_new_deadlines_move_the_pending_warnings_and_breaches_and_leave_a_fired_one_as_it_fired(api: Api) -> None:
    start = datetime.now().astimezone() + timedelta(days=1)
    with time_machine.travel(start, tick=False) as clock:
        number = api.open_ticket(severity="low")["number"]  # NORD-BANK: gold, 24x7, 8 hours to react
        drain(api.ctx)
        clock.shift(timedelta(hours=7))  # past the warning at 80 %
        assert _fire(api) == ["reaction.warning"]

        def events() -> dict[str, tuple[str, datetime | None]]:
            with api.ctx.sessions() as session:
                query = select(SlaEvent).join(Ticket, Ticket.id == SlaEvent.ticket_id).where(Ticket.number == number)
                return {f"{e.clock}.{e.kind}": (e.status, e.due_at) for e in session.scalars(query)}

        before = events()
        api.complete(number, "clarify", {"description": "all paths down", "severity": "critical"}, as_="duty")
        after = events()
        assert before["reaction.warning"][0] != "pending" and after["reaction.warning"][0] != "pending"
        assert after["reaction.warning"][1] == before["reaction.warning"][1]  # when it fell due, as it fired
        assert after["reaction.breach"][0] == "pending" and after["reaction.breach"][1] != before["reaction.breach"][1]
        assert set(after) == set(before)  # moved, none added
