"""The duty officer's pages through the Flask client: opening a ticket for a phone call (client search, the chosen
client's contacts and equipment, the server's field errors inline), the unconfirmed contacts to confirm or merge,
and reassigning a task from its page; with the sign-in, CSRF and the refusals of people who may not."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from service.clients.models import Contact
from service.context import Context
from service.db import transaction
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.signin import csrf_of, sign_in_page

CLARIFY = {"description": "Controller B failed", "severity": "high", "category": "hardware"}
_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def browser(app: Flask) -> FlaskClient:
    return app.test_client()


def _phone_call(page: str, **fields: str) -> dict[str, str]:
    found = _KEY.search(page)
    assert found, page
    return {
        "csrf": csrf_of(page),
        "idempotency_key": found.group(1),
        "client": "NORD-BANK",
        "contact_email": "it@nord-bank.example",
        "equipment_serial": "IBM-FS5200-0001",
        "summary": "Array degraded",
        "severity": "high",
        "category": "hardware",
        "channel": "phone",
        **fields,
    }


def test_the_new_ticket_form_needs_sign_in(browser: FlaskClient) -> None:
    answer = browser.get("/tickets/new")
    assert answer.status_code == 303 and answer.headers["Location"] == "/login?next=/tickets/new"
    partial = browser.get("/tickets/new/clients?q=nord", headers={"HX-Request": "true"})
    assert partial.status_code == 204 and partial.headers["HX-Redirect"].startswith("/login?next=")


def test_the_client_search_finds_and_the_chosen_clients_parties_are_offered(browser: FlaskClient, ctx: Context) -> None:
    sign_in_page(browser, ctx, "duty", language="en")
    search = browser.get("/tickets/new?q=nord")
    assert search.status_code == 200 and 'href="/tickets/new?client=NORD-BANK"' in search.text
    assert "MEGA-RETAIL" not in search.text and 'hx-get="/tickets/new/clients"' in search.text
    partial = browser.get("/tickets/new/clients?q=mega")
    assert "MEGA-RETAIL" in partial.text and "NORD-BANK" not in partial.text and "<html" not in partial.text
    form = browser.get("/tickets/new?client=NORD-BANK")
    assert 'value="it@nord-bank.example"' in form.text
    assert 'value="IBM-FS5200-0001"' in form.text and 'value="DELL-R750-0001"' in form.text
    assert "IBM-V7000-0002" not in form.text  # MEGA-RETAIL's array is not offered for NORD-BANK
    assert re.search(r'<option value="phone"\s+selected>', form.text)
    unknown = browser.get("/tickets/new?client=NO-SUCH")
    assert 'id="client-error"' in unknown.text and 'name="summary"' not in unknown.text


def test_a_phone_call_opens_a_ticket_once(browser: FlaskClient, ctx: Context, api: Api) -> None:
    sign_in_page(browser, ctx, "duty", language="en")
    form = browser.get("/tickets/new?client=NORD-BANK")
    data = _phone_call(form.text)
    opened = browser.post("/tickets/new", data=data)
    assert opened.status_code == 303, opened.text
    number = opened.headers["Location"].split("/")[2]
    ticket = api.ticket(number)
    assert ticket["channel"] == "phone" and ticket["equipment_serial"] == "IBM-FS5200-0001"
    assert ticket["created_at"] and ticket["contact_email"] == "it@nord-bank.example"
    page = browser.get(opened.headers["Location"])
    assert page.status_code == 200 and number in page.text and 'href="/"' in page.text
    again = browser.post("/tickets/new", data=data)  # the same form sent twice: the same ticket
    assert again.status_code == 303 and again.headers["Location"] == opened.headers["Location"]


def test_a_new_address_makes_an_unconfirmed_contact(browser: FlaskClient, ctx: Context, api: Api) -> None:
    sign_in_page(browser, ctx, "duty", language="en")
    form = browser.get("/tickets/new?client=NORD-BANK")
    data = _phone_call(form.text, contact_email="")
    body = MultiDict([*data.items(), ("contact_email", "Night.Shift@nord-bank.example")])
    opened = browser.post("/tickets/new", data=body)
    assert opened.status_code == 303, opened.text
    ticket = api.ticket(opened.headers["Location"].split("/")[2])
    assert ticket["contact_email"] == "night.shift@nord-bank.example" and ticket["contact_confirmed"] is False


def test_the_servers_field_errors_are_shown_beside_their_fields(browser: FlaskClient, ctx: Context) -> None:
    sign_in_page(browser, ctx, "duty", language="ru")
    form = browser.get("/tickets/new?client=NORD-BANK")
    empty = browser.post("/tickets/new", data=_phone_call(form.text, summary="", contact_email=""))
    assert empty.status_code == 422
    assert 'id="summary-error"' in empty.text and 'id="contact_email-error"' in empty.text
    assert 'aria-invalid="true" aria-describedby="summary-error"' in empty.text
    assert "Опишите одной строкой" in empty.text
    wrong = browser.post("/tickets/new", data=_phone_call(form.text, equipment_serial="IBM-V7000-0002"))
    assert wrong.status_code == 422 and 'id="equipment_serial-error"' in wrong.text
    assert 'value="Array degraded"' in wrong.text  # what was typed stays
    odd = browser.post("/tickets/new", data=_phone_call(form.text, severity="apocalyptic"))
    assert odd.status_code == 422 and 'id="severity-error"' in odd.text


def test_the_new_ticket_form_refuses_forms_without_csrf_and_people_who_may_not(
    browser: FlaskClient, ctx: Context
) -> None:
    sign_in_page(browser, ctx, "duty", language="en")
    form = browser.get("/tickets/new?client=NORD-BANK")
    forged = browser.post("/tickets/new", data={**_phone_call(form.text), "csrf": "forged"})
    assert forged.status_code == 403
    other = browser.application.test_client()
    sign_in_page(other, ctx, "storage.l1", language="en")
    assert other.get("/tickets/new").status_code == 403  # the directory is not an engineer's to search
    assert other.get("/contacts/unconfirmed").status_code == 403


def _unconfirmed(api: Api, email: str) -> str:
    number = api.open_ticket(contact_email=email)["number"]
    drain(api.ctx)
    return number


def test_an_unconfirmed_contact_is_confirmed(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number = _unconfirmed(api, "new.person@nord-bank.example")
    sign_in_page(browser, ctx, "duty", language="en")
    page = browser.get("/contacts/unconfirmed")
    assert page.status_code == 200 and "new.person@nord-bank.example" in page.text
    assert "it@nord-bank.example" in page.text  # offered to merge into
    assert browser.post("/contacts/unconfirmed/confirm", data={"client": "NORD-BANK"}).status_code == 403
    version = re.search(r'name="version" value="([^"]+)"', page.text)
    assert version and 'href="/contacts/unconfirmed"' in page.text
    data = {"csrf": csrf_of(page.text), "client": "NORD-BANK", "email": "new.person@nord-bank.example"}
    stale = browser.post("/contacts/unconfirmed/confirm", data={**data, "version": '"1.99"'})
    assert stale.status_code == 409 and "changed meanwhile" in stale.text
    done = browser.post("/contacts/unconfirmed/confirm", data={**data, "version": html.unescape(version.group(1))})
    assert done.status_code == 303
    assert api.ticket(number)["contact_confirmed"] is True
    after = browser.get(done.headers["Location"])
    assert "The contact is confirmed." in after.text and "new.person@nord-bank.example" not in after.text


def test_an_unconfirmed_contact_is_merged_into_a_known_one(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number = _unconfirmed(api, "it.dept@nord-bank.example")
    sign_in_page(browser, ctx, "duty", language="en")
    page = browser.get("/contacts/unconfirmed")
    data = {"csrf": csrf_of(page.text), "client": "NORD-BANK", "email": "it.dept@nord-bank.example"}
    refused = browser.post("/contacts/unconfirmed/merge", data={**data, "into": "nobody@nord-bank.example"})
    assert refused.status_code == 422 and "Choose another contact of the same client." in refused.text
    merged = browser.post("/contacts/unconfirmed/merge", data={**data, "into": "it@nord-bank.example"})
    assert merged.status_code == 303
    assert api.ticket(number)["contact_email"] == "it@nord-bank.example"
    with transaction(ctx.sessions) as session:
        contact = session.scalar(select(Contact).where(Contact.email == "it.dept@nord-bank.example"))
        assert contact is not None and contact.active is False


def _at_resolve(api: Api) -> tuple[str, str]:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", CLARIFY, as_="duty")
    return number, api.task(number, "resolve", as_="storage.l1")["id"]


def test_a_duty_officer_moves_a_task_to_another_queue_of_its_team(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number, task_id = _at_resolve(api)
    sign_in_page(browser, ctx, "duty", language="en")
    page = browser.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and number in page.text
    assert "Take this task" not in page.text  # not the duty officer's queue: reassign only
    assert re.search(r'<option value="storage-L2"\s*>', page.text) and "servers-L1" not in page.text
    assert '<option value="storage.l3"' in page.text
    assert browser.post(f"/tasks/{task_id}/assign", data={"group": "storage-L2"}).status_code == 403
    wrong = browser.post(f"/tasks/{task_id}/assign", data={"csrf": csrf_of(page.text), "group": "servers-L2"})
    assert wrong.status_code == 422 and 'id="group-error"' in wrong.text
    moved = browser.post(f"/tasks/{task_id}/assign", data={"csrf": csrf_of(page.text), "group": "storage-L2"})
    assert moved.status_code == 303 and moved.headers["Location"] == f"/tasks/{task_id}?assigned=1"
    assert api.task(number, "resolve", as_="storage.l2")["candidate_groups"] == ["storage-L2"]
    after = browser.get(moved.headers["Location"])
    assert "The task is reassigned." in after.text and re.search(r'<option value="storage-L1"\s*>', after.text)


def test_a_manager_gives_a_task_to_a_person_and_an_engineer_may_not(
    browser: FlaskClient, ctx: Context, api: Api
) -> None:
    number, task_id = _at_resolve(api)
    sign_in_page(browser, ctx, "manager", language="ru")
    page = browser.get(f"/tasks/{task_id}")
    assert "Передать этому человеку" in page.text
    given = browser.post(f"/tasks/{task_id}/assign", data={"csrf": csrf_of(page.text), "user": "storage.l3"})
    assert given.status_code == 303
    assert api.task(number, "resolve", as_="storage.l3")["claimed_by"] == "storage.l3"
    engineer = browser.application.test_client()
    sign_in_page(engineer, ctx, "storage.l3", language="en")
    own = engineer.get(f"/tasks/{task_id}")
    assert own.status_code == 200 and "Give to this person" not in own.text  # works it, does not reassign it
    refused = engineer.post(f"/tasks/{task_id}/assign", data={"csrf": csrf_of(own.text), "group": "storage-L2"})
    assert refused.status_code == 403
    stranger = browser.application.test_client()
    sign_in_page(stranger, ctx, "servers.l1", language="en")
    assert stranger.get(f"/tasks/{task_id}").status_code == 404
