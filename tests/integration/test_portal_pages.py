"""The client portal through the Flask client: sign-in first, CSRF on the form, field errors beside their fields,
the company's tickets with their clocks, a ticket's page with the history a client reads, another company's ticket
as the not-found page, and both languages; and the client-visible history the API answers as well."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.context import Context
from service.tickets.history import CLIENT_DETAIL, SERVICE_DESK
from service.web import portal
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.signin import csrf_of, sign_in_page

NORD_SERIAL = "IBM-FS5200-0001"
MEGA_SERIAL = "DELL-R740-0002"


@pytest.fixture
def browser(app: Flask) -> FlaskClient:
    return app.test_client()


def _open(client: FlaskClient, **fields: str) -> object:
    form = client.get("/portal/new")
    data = {"equipment_serial": NORD_SERIAL, "summary": "Disk array degraded", "contact_email": "it@nord-bank.example"}
    data = {**data, "csrf": csrf_of(form.text), **fields}
    return client.post("/portal/new", data=data)


@pytest.mark.parametrize("path", ["/portal", "/portal/new", "/portal/tickets/SD-000001"])
def test_every_portal_page_needs_a_sign_in(browser: FlaskClient, path: str) -> None:
    answer = browser.get(path)
    assert answer.status_code == 303 and answer.headers["Location"] == f"/login?next={path}"


def test_a_client_landing_on_my_work_goes_to_the_portal(browser: FlaskClient, ctx: Context) -> None:
    sign_in_page(browser, ctx, "nordbank", language="en")
    answer = browser.get("/")
    assert answer.status_code == 303 and answer.headers["Location"] == "/portal"


def test_the_portal_is_the_clients_own(browser: FlaskClient, ctx: Context) -> None:
    sign_in_page(browser, ctx, "duty", language="en")
    assert browser.get("/portal").status_code == 403
    assert browser.get("/").status_code == 200  # the duty officer's page stays "My work"


def test_the_form_offers_only_the_companys_equipment_and_needs_its_csrf_value(
    browser: FlaskClient, ctx: Context
) -> None:
    sign_in_page(browser, ctx, "nordbank", language="en")
    form = browser.get("/portal/new")
    assert form.status_code == 200 and "Open a ticket" in form.text
    assert f'value="{NORD_SERIAL}"' in form.text and MEGA_SERIAL not in form.text
    for name in ("equipment_serial", "contact_email", "summary", "description", "severity", "category"):
        assert f'name="{name}"' in form.text
    assert 'value="it@nord-bank.example"' in form.text  # the person's own address to start with
    forged = browser.post("/portal/new", data={"equipment_serial": NORD_SERIAL, "summary": "x", "csrf": "forged"})
    assert forged.status_code == 403
    assert "SD-" not in browser.get("/portal").text


def test_a_bad_submission_shows_its_errors_beside_the_fields(browser: FlaskClient, ctx: Context) -> None:
    sign_in_page(browser, ctx, "nordbank", language="ru")
    empty = _open(browser, summary="", contact_email="not an address")
    assert empty.status_code == 422  # type: ignore[attr-defined]
    text = empty.text  # type: ignore[attr-defined]
    assert 'id="summary-error"' in text and 'aria-describedby="summary-error"' in text
    assert 'id="contact_email-error"' in text and "Укажите адрес электронной почты" in text
    other = _open(browser, equipment_serial=MEGA_SERIAL)  # another company's serial: the service refuses it
    assert other.status_code == 422 and 'id="equipment_serial-error"' in other.text  # type: ignore[attr-defined]
    assert "Выберите оборудование вашей компании." in other.text  # type: ignore[attr-defined]
    assert "SD-" not in browser.get("/portal").text


def test_a_client_opens_a_ticket_and_sees_it_with_its_clocks(browser: FlaskClient, ctx: Context) -> None:
    sign_in_page(browser, ctx, "nordbank", language="en")
    opened = _open(browser, severity="high", description="Controller B reports errors")
    assert opened.status_code == 303, opened.text  # type: ignore[attr-defined]
    number = opened.headers["Location"].rsplit("=", 1)[1]  # type: ignore[attr-defined]
    drain(ctx)
    listed = browser.get(f"/portal?opened={number}")
    assert f"Ticket {number} is open." in listed.text
    assert f'href="/portal/tickets/{number}"' in listed.text
    assert "Reaction" in listed.text and "Resolution" in listed.text and "time left" in listed.text
    page = browser.get(f"/portal/tickets/{number}")
    assert page.status_code == 200 and "Disk array degraded" in page.text
    assert "Ticket opened (channel: portal)." in page.text
    assert "We mailed you that the ticket is open." in page.text
    assert "Reaction" in page.text and "History" in page.text


def test_the_russian_portal_speaks_russian(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number = api.open_ticket(as_="nordbank")["number"]
    drain(ctx)
    sign_in_page(browser, ctx, "nordbank", language="ru")
    listed = browser.get("/portal")
    assert "Мои заявки" in listed.text and "Реакция" in listed.text
    page = browser.get(f"/portal/tickets/{number}")
    assert "История" in page.text and "Заявка открыта (канал: портал)." in page.text


def test_another_companys_ticket_is_the_not_found_page(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number = api.open_ticket(as_="nordbank")["number"]
    sign_in_page(browser, ctx, "megaretail", language="en")
    answer = browser.get(f"/portal/tickets/{number}")
    assert answer.status_code == 404 and "Not found" in answer.text and "Disk array" not in answer.text
    assert number not in browser.get("/portal").text


def test_the_page_shows_nothing_internal(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number = api.open_ticket(as_="nordbank")["number"]
    drain(ctx)
    api.complete(number, "clarify", {"description": "Controller B failed", "category": "hardware"}, as_="duty")
    sign_in_page(browser, ctx, "nordbank", language="en")
    page = browser.get(f"/portal/tickets/{number}").text
    internal = {event["kind"] for event in api.history(number)} - set(CLIENT_DETAIL)
    assert internal, "the ticket should have internal events to hide"
    for word in ("duty", "decision", "task_completed", "storage"):
        assert word not in page
    assert "Status changed from" in page


def test_a_client_reads_through_the_api_only_what_concerns_them(ctx: Context, api: Api) -> None:
    number = api.open_ticket(as_="nordbank")["number"]
    drain(ctx)
    api.complete(number, "clarify", {"description": "Controller B failed", "category": "hardware"}, as_="duty")
    everything = api.history(number, as_="duty")
    theirs = api.history(number, as_="nordbank")
    assert {e["kind"] for e in everything} > {e["kind"] for e in theirs}
    assert {e["kind"] for e in theirs} <= set(CLIENT_DETAIL) and "status_changed" in {e["kind"] for e in theirs}
    for event in theirs:
        assert set(event["detail"]) <= set(CLIENT_DETAIL[event["kind"]])
        assert event["actor"] in ("nordbank", SERVICE_DESK)
    mails = [e for e in theirs if e["kind"] == "job_done"]
    assert mails and all(e["detail"]["topic"].startswith("mail.") for e in mails)


def test_the_list_pages_by_the_apis_cursor(
    browser: FlaskClient, ctx: Context, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(portal, "PAGE_SIZE", 2)
    numbers = [api.open_ticket(as_="nordbank", summary=f"Fault {n}")["number"] for n in range(3)]
    sign_in_page(browser, ctx, "nordbank", language="en")
    first = browser.get("/portal").text
    assert numbers[2] in first and numbers[1] in first and numbers[0] not in first  # newest first
    found = re.search(r'href="/portal\?cursor=([^"]+)">Next page', first)
    assert found
    second = browser.get(f"/portal?cursor={found.group(1)}").text
    assert numbers[0] in second and numbers[1] not in second and "Next page" not in second
    assert numbers[2] in browser.get("/portal?cursor=not-a-cursor").text  # a bad cursor: the first page
