"""Service levels and calendars as data edited through the API, who sees what, and time entries with utilisation."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import time_machine

from service.worker import drain
from tests.integration.conftest import Api
from tests.support.sla import at, plain_friday

SILVER = {
    "title": "Silver",
    "calendar": "moscow-business",
    "start_on": "created",
    "pause_for_parts": True,
    "warn_percent": 80,
    "targets": {
        "critical": {"reaction_minutes": 60, "resolution_minutes": 480},
        "high": {"reaction_minutes": 240, "resolution_minutes": 960},
        "normal": {"reaction_minutes": 480, "resolution_minutes": 2400},
        "low": {"reaction_minutes": 960, "resolution_minutes": 4800},
    },
}


def test_an_administrator_edits_a_service_level_and_open_clocks_follow_from_their_history(api: Api) -> None:
    friday = plain_friday(date.today() + timedelta(days=3))
    with time_machine.travel(at(friday, 11), tick=False) as clock:
        number = api.open_ticket(
            client="MEGA-RETAIL",
            contact_email="it@mega-retail.example",
            equipment_serial="DELL-R740-0002",
            severity="critical",
        )["number"]
        drain(api.ctx)
        assert api.ticket(number)["sla"]["reaction"]["due_at"] == at(friday, 13).isoformat()
        clock.move_to(at(friday, 11, 30))
        assert api.call("PUT", "/sla/service-levels/silver", as_="manager", json=SILVER).status_code == 403
        response = api.call("PUT", "/sla/service-levels/silver", as_="admin", json=SILVER)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["targets"]["critical"]["reaction_minutes"] == 60
        assert response.get_json()["updated_by"] == "admin"
        # one hour from the ticket's start, not from the change
        assert api.ticket(number)["sla"]["reaction"]["due_at"] == at(friday, 12).isoformat()

        bad = dict(SILVER, calendar="nowhere", targets={"critical": SILVER["targets"]["critical"]})
        refused = api.call("PUT", "/sla/service-levels/silver", as_="admin", json=bad)
        assert refused.status_code == 422 and "calendar" in refused.get_json()["errors"]

        # a day off added to the calendar moves the deadline too
        calendar = api.get("/sla/calendars/moscow-business", as_="admin").get_json()
        calendar["days"] = [{"day": friday.isoformat(), "working": False, "note": "office closed"}]
        body = {key: calendar[key] for key in ("title", "timezone", "country", "hours", "days")}
        assert api.call("PUT", "/sla/calendars/moscow-business", as_="admin", json=body).status_code == 200
        assert api.ticket(number)["sla"]["reaction"]["due_at"] == at(friday, 10, plus_days=3).isoformat()


def test_calendars_are_created_checked_and_show_their_year(api: Api) -> None:
    body = {
        "name": "berlin-office",
        "timezone": "Europe/Berlin",
        "country": "DE",
        "hours": {"mon": [["08:00", "12:00"], ["13:00", "17:00"]], "fri": [["08:00", "14:00"]]},
        "days": [{"day": "2025-12-24", "working": False}],
    }
    created = api.post("/sla/calendars", as_="admin", json=body)
    assert created.status_code == 201, created.get_json()
    assert api.post("/sla/calendars", as_="admin", json=body).status_code == 409
    wrong = dict(body, name="bad", hours={"mon": [["17:00", "08:00"]]})
    assert api.post("/sla/calendars", as_="admin", json=wrong).get_json()["errors"] == {
        "hours.mon": ["a span must end after it starts"]
    }
    assert api.post("/sla/calendars", as_="admin", json=dict(body, name="bad", timezone="Mars/Base")).status_code == 422
    year = api.get("/sla/calendars/moscow-business/years/2025", as_="manager").get_json()
    kinds = {day["day"]: day["kind"] for day in year["days"]}
    assert kinds["2025-11-01"] == "transferred" and kinds["2025-11-04"] == "holiday"
    assert year["working_hours"]["2025-11"] == 19 * 9
    level = dict(SILVER, name="bronze", calendar="berlin-office")
    assert api.post("/sla/service-levels", as_="admin", json=level).status_code == 201
    names = [row["name"] for row in api.get("/sla/service-levels", as_="manager").get_json()]
    assert names == ["bronze", "gold", "per_call", "silver"]
    assert api.get("/sla/service-levels", as_="storage.l1").status_code == 403


def test_a_client_sees_its_own_clocks_and_compliance_and_nothing_else(api: Api) -> None:
    mine = api.open_ticket(as_="nordbank")["number"]
    theirs = api.open_ticket(
        client="MEGA-RETAIL", contact_email="it@mega-retail.example", equipment_serial="DELL-R740-0002"
    )["number"]
    drain(api.ctx)
    sla = api.ticket(mine, as_="nordbank")["sla"]
    assert sla["reaction"]["state"] == "running" and datetime.fromisoformat(sla["reaction"]["due_at"]).utcoffset()
    assert api.get(f"/tickets/{theirs}", as_="nordbank").status_code == 404
    assert api.get(f"/sla/tickets/{theirs}", as_="nordbank").status_code == 404
    report = api.get("/reports/sla?group_by=client", as_="nordbank").get_json()
    assert {row["client"] for row in report["rows"]} == {"NORD-BANK"}
    assert report["filters"]["client"] == "NORD-BANK"
    for path in ("/reports/labour", "/reports/utilisation"):
        assert api.get(path, as_="nordbank").status_code == 403
    assert api.get("/reports/sla", as_="storage.l1").status_code == 403


def test_time_entries_and_utilisation_add_up(api: Api) -> None:
    friday = plain_friday(date.today() + timedelta(days=3))
    monday = friday + timedelta(days=3)
    with time_machine.travel(at(monday, 10), tick=False):
        number = api.open_ticket()["number"]
        drain(api.ctx)
        api.complete(number, "clarify", {"description": "degraded"}, as_="duty")
        api.complete(number, "resolve", {"outcome": "escalate", "hours": 2.5}, as_="storage.l1")
        api.complete(number, "resolve", {"outcome": "solved", "hours": 1.5}, as_="storage.l2")
        entry = {"ticket": number, "day": monday.isoformat(), "hours": "2", "kind": "travel"}
        assert api.post("/sla/time-entries", as_="storage.l1", json=entry).status_code == 201
        other = dict(entry, engineer="storage.l2")
        assert api.post("/sla/time-entries", as_="storage.l1", json=other).status_code == 403
        assert api.post("/sla/time-entries", as_="manager", json=dict(other, hours="1")).status_code == 201
        assert api.post("/sla/time-entries", as_="manager", json=dict(entry, hours="25")).status_code == 422
        own = api.get("/sla/time-entries", as_="storage.l1").get_json()["items"]
        assert sorted((e["kind"], e["hours"], e["source"]) for e in own) == [
            ("onsite", 2.5, "task"),
            ("travel", 2.0, "api"),
        ]
        period = f"from={monday.isoformat()}&to={(monday + timedelta(days=4)).isoformat()}"
        labour = api.get(f"/reports/labour?{period}", as_="manager").get_json()
        rows = {row["engineer"]: row for row in labour["rows"]}
        assert rows["storage.l1"]["hours"] == 4.5 and rows["storage.l1"]["onsite_hours"] == 2.5
        assert rows["storage.l2"]["remote_hours"] == 1.5 and rows["storage.l2"]["hours"] == 2.5
        assert labour["summary"]["hours"] == 7.0
        by_client = api.get(f"/reports/labour?{period}&group_by=client", as_="manager").get_json()
        assert by_client["rows"] == [
            {
                "client": "NORD-BANK",
                "hours": 7.0,
                "remote_hours": 1.5,
                "onsite_hours": 2.5,
                "travel_hours": 3.0,
                "entries": 4,
                "tickets": 1,
            }
        ]
        use = api.get(f"/reports/utilisation?{period}&team=storage", as_="manager").get_json()
        people = {row["engineer"]: row for row in use["rows"]}
        assert set(people) == {"storage.l1", "storage.l2", "storage.l3"}
        assert people["storage.l1"]["available_hours"] == 45.0  # a plain week of 5 x 9 hours
        assert people["storage.l1"]["utilisation_percent"] == 10.0
        team = api.get(f"/reports/utilisation?{period}&group_by=team&team=storage&format=csv", as_="manager")
        [row] = list(csv.DictReader(io.StringIO(team.get_data(as_text=True))))
        assert row == {
            "team": "storage",
            "engineers": "3",
            "available_hours": "135.0",
            "productive_hours": "7.0",
            "utilisation_percent": "5.2",
        }


def test_the_payloads_of_the_sla_guide_are_accepted(api: Api) -> None:
    from service.sla.schemas import ReviewCompleteSchema
    from tests.conftest import ROOT
    from tests.integration.test_docs import _json_after

    text = (ROOT / "docs" / "sla.md").read_text()
    level = _json_after(text, '{"title": "Silver')
    assert api.call("PUT", "/sla/service-levels/silver", as_="admin", json=level).status_code == 200
    calendar = _json_after(text, '{"title": "Moscow office"')
    assert api.post("/sla/calendars", as_="admin", json={**calendar, "name": "moscow-office"}).status_code == 201
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {"description": "d", "category": "hardware"}, as_="duty")  # now the storage team's
    entry = _json_after(text, '{"ticket": "SD-000042"')
    response = api.post("/sla/time-entries", as_="storage.l1", json={**entry, "ticket": number})
    assert response.status_code == 201, response.get_json()
    review = _json_after(text, '{"data": {"reason"')
    assert ReviewCompleteSchema().load(review) == review


def test_the_openapi_document_describes_the_sla_contract(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").get_json()
    for report in ("sla", "breaches", "labour", "utilisation"):
        content = spec["paths"][f"/api/v1/reports/{report}"]["get"]["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/csv"}
    assert "sla" in spec["components"]["schemas"]["TicketDetail"]["properties"]
    clock = spec["components"]["schemas"]["Clock"]["properties"]
    assert {"due_at", "state", "paused_seconds", "remaining_seconds"} <= set(clock)
