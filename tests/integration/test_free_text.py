"""Free texts, numbers and dates are checked where they enter: no control characters where they cannot go, a length
limit on every text, a sane range on every stored date."""

from __future__ import annotations

import datetime as dt

import pytest

from service.worker import drain
from tests.integration.conftest import Api

TICKET = {
    "client": "NORD-BANK",
    "contact_email": "it@nord-bank.example",
    "channel": "portal",
    "summary": "Disk array degraded",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("summary", "Disk\r\nBcc: x@evil.example"),
        ("summary", "Disk\narray"),
        ("summary", "tab\there"),
        ("summary", "bell\x07"),
        ("summary", "next line\x85"),
        ("summary", "x" * 201),
        ("summary", ""),
        ("description", "bell\x07"),
        ("description", "lone\rcarriage return"),
        ("description", "x" * 20_001),
        ("client", "NORD\nBANK"),
        ("equipment_serial", "IBM\x1b[31m"),
        ("contact_email", "it@nord-bank.example\r\nBcc: x@evil.example"),
    ],
    ids=repr,
)
def test_a_ticket_with_a_bad_text_is_refused(api: Api, field: str, value: str) -> None:
    response = api.post("/tickets", as_="duty", json={**TICKET, field: value})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["errors"]


def test_a_description_keeps_its_lines_and_tabs(api: Api) -> None:
    opened = api.open_ticket(description="line one\r\nline two\n\tindented")
    assert api.ticket(opened["number"])["description"] == "line one\nline two\n\tindented"


def test_a_seven_megabyte_description_is_refused(api: Api) -> None:
    response = api.post("/tickets", as_="duty", json={**TICKET, "description": "x" * 7_000_000})
    assert response.status_code == 422
    assert "description" in response.get_json()["errors"]


@pytest.mark.parametrize("day", ["9999-12-31", "1999-12-31", f"{dt.date.today().year + 2}-01-01"])
def test_a_time_entry_far_from_today_is_refused(api: Api, day: str) -> None:
    number = api.open_ticket()["number"]
    body = {"ticket": number, "day": day, "hours": "1.5", "kind": "remote"}
    response = api.post("/sla/time-entries", as_="admin", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "day" in response.get_json()["errors"]


def test_a_calendar_day_off_in_9999_is_refused(api: Api) -> None:
    body = {"name": "far", "timezone": "UTC", "hours": {}, "days": [{"day": "9999-01-01"}]}
    response = api.post("/sla/calendars", as_="admin", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)


@pytest.mark.parametrize("minutes", [2**31, 10**12])
def test_a_target_beyond_a_year_of_minutes_is_refused(api: Api, minutes: int) -> None:
    targets = {"high": {"reaction_minutes": minutes, "resolution_minutes": 60}}
    body = {"name": "huge", "calendar": "24x7", "targets": targets}
    response = api.post("/sla/service-levels", as_="admin", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value"), [("description", "x" * 20_001), ("description", "bell\x07"), ("equipment_serial", "IBM\nX")]
)
def test_a_form_that_changes_the_ticket_keeps_to_the_intake_rules(api: Api, field: str, value: str) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task = api.task(number, "clarify", as_="duty")
    data = {"description": "Controller B failed", "severity": "high", "category": "hardware", field: value}
    response = api.post(f"/tasks/{task['id']}/complete", as_="duty", json={"data": data})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["errors"]
    assert api.ticket(number)["description"] == "Controller B reports errors"
