"""The whole ticket card on the task page: contract or one-off contract, paid flag, decisions with rule and version,
a page of history in the person's words, the folder's files."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapters.files import LocalFolderStore
from service.app import create_app
from service.context import Context
from service.web import cards
from service.worker import drain
from tests.integration.conftest import Api
from tests.integration.test_permission_matrix import CLARIFY, _at_resolve
from tests.support.signin import csrf_of, sign_in_page


@pytest.fixture
def store(ctx: Context, tmp_path: Path) -> LocalFolderStore:
    """A file store of this test alone (ticket numbers start again in every test)."""
    return LocalFolderStore(tmp_path / "files", "https://files.test/tickets")


@pytest.fixture
def app(ctx: Context, store: LocalFolderStore) -> Flask:
    return create_app(context=dataclasses.replace(ctx, file_store=store))


def _signed_in(app: Flask, ctx: Context, username: str, *, language: str = "en") -> FlaskClient:
    """A browser signed in as the user, who reads `language`."""
    client = app.test_client()
    sign_in_page(client, ctx, username, language=language)
    return client


def _per_call_paid(api: Api) -> tuple[str, str]:
    """A NEW-CLIENT per-call ticket whose estimate was accepted and paid, and its open task's id."""
    number = api.open_ticket(
        client="NEW-CLIENT", contact_email="it@new-client.example", equipment_serial="CISCO-C9300-0005"
    )["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {**CLARIFY, "category": "configuration"}, as_="duty")
    api.complete(number, "estimate", {"diagnostics_cost": 12000}, as_="consultant")
    api.complete(number, "record_payment", {"accepted": True, "paid": True}, as_="duty")
    return number, str(api.ticket(number)["open_tasks"][0]["id"])


def test_a_contract_ticket_shows_its_contract_decisions_and_history(app: Flask, ctx: Context, api: Api) -> None:
    number, task = _at_resolve(api)
    ticket = api.ticket(number)
    entitlement = next(d for d in ticket["decisions"] if d["facts"].get("contract_number"))
    page = _signed_in(app, ctx, "storage.l1").get(f"/tasks/{task}")
    assert page.status_code == 200
    contract = f"{entitlement['facts']['contract_number']}, service level {entitlement['facts']['service_level']}"
    assert contract in page.text
    assert "One-off contract" not in page.text
    assert "<dt>Paid</dt><dd>no</dd>" in page.text
    for decision in ticket["decisions"]:
        said = f"{decision['ruleset']}, rule “{decision['rule']}”, version {decision['version'][:12]}:"
        assert said.replace("“", "&#8220;") in page.text or said in page.text
    assert "route: contract" in page.text
    history = page.text[page.text.index('id="card-history-heading"') :]
    assert history.index("Task completed (duty)") < history.index("Ticket opened")  # newest first


def test_a_per_call_ticket_shows_its_one_off_contract_and_that_it_is_paid(app: Flask, ctx: Context, api: Api) -> None:
    number, task = _per_call_paid(api)
    one_off = api.ticket(number)["one_off_contract"]
    page = _signed_in(app, ctx, "admin").get(f"/tasks/{task}")
    assert page.status_code == 200
    assert f"<dt>One-off contract</dt><dd>{one_off}</dd>" in page.text
    assert "<dt>Paid</dt><dd>yes</dd>" in page.text
    assert "route: per call" in page.text


def test_the_history_is_in_the_persons_words_and_pages_on(
    app: Flask, ctx: Context, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, task = _at_resolve(api)
    monkeypatch.setattr(cards, "HISTORY_PAGE", 3)  # pages of 3: the ticket has more events than that
    russian = _signed_in(app, ctx, "storage.l1", language="ru").get(f"/tasks/{task}")
    assert "Задача выполнена" in russian.text and "Task completed" not in russian.text
    english = _signed_in(app, ctx, "storage.l1").get(f"/tasks/{task}")
    assert len(api.history(number)) > 3 and "Ticket opened" not in english.text.split("card-history-heading")[1]
    browser, page, pages = _signed_in(app, ctx, "storage.l1"), english.text, 1
    while older := re.search(r'href="(/tasks/[^"]+\?history=[^"#]+)', page):
        page, pages = browser.get(older.group(1).replace("&amp;", "&")).text, pages + 1
    assert pages > 1 and "Ticket opened" in page  # the oldest event is on the last page


def test_the_folders_files_are_listed_with_their_links(app: Flask, ctx: Context, api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    upload = {"files": [(io.BytesIO(b"error 42\n"), "log.txt")]}
    stored = api.post(f"/tickets/{number}/files", as_="duty", data=upload, content_type="multipart/form-data")
    assert stored.status_code == 201
    clarify = api.task(number, "clarify", as_="duty")["id"]
    page = _signed_in(app, ctx, "duty").get(f"/tasks/{clarify}")
    assert f'href="/api/v1/tickets/{number}/files/log.txt"' in page.text
    assert "Files of the ticket" in page.text


def test_signing_out_everywhere_ends_the_other_sessions_and_tokens(app: Flask, ctx: Context, api: Api) -> None:
    here = _signed_in(app, ctx, "duty")
    there = _signed_in(app, ctx, "duty")
    assert there.get("/").status_code == 200
    token = api.token("duty")
    assert api.get("/auth/tokens", as_="duty").status_code == 200
    page = here.get("/")
    assert "Sign out everywhere</button>" in page.text
    out = here.post("/logout-all", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["Location"].endswith("/login")
    again = there.get("/")
    assert again.status_code == 303 and "/login" in again.headers["Location"]  # the other browser signs in anew
    gone = app.test_client().get("/api/v1/auth/tokens", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401
    api.forget_token("duty")


def test_the_api_signs_out_everywhere_and_says_how_many_ended(app: Flask, ctx: Context, api: Api) -> None:
    _signed_in(app, ctx, "duty")
    api.token("duty")
    answer = api.post("/auth/logout-all", as_="duty")
    assert answer.status_code == 200 and answer.get_json()["ended"] >= 2
    assert api.get("/auth/tokens", as_="duty").status_code == 401


def _portal_form(client: FlaskClient, attachments: list[tuple[bytes, str]]) -> dict[str, object]:
    form = client.get("/portal/new")
    assert 'type="file"' in form.text and "multiple" in form.text and 'enctype="multipart/form-data"' in form.text
    return {
        "csrf": csrf_of(form.text),
        "equipment_serial": "IBM-FS5200-0001",
        "summary": "Disk array degraded",
        "contact_email": "it@nord-bank.example",
        "files": [(io.BytesIO(data), name) for data, name in attachments],
    }


def test_the_files_attached_in_the_portal_land_in_the_new_tickets_folder(
    app: Flask, ctx: Context, api: Api, store: LocalFolderStore
) -> None:
    client = _signed_in(app, ctx, "nordbank")
    form = _portal_form(client, [(b"\x89PNG\r\n\x1a\n", "front.png"), (b"error 42\n", "log.txt")])
    opened = client.post("/portal/new", data=form, content_type="multipart/form-data")
    assert opened.status_code == 303, opened.text
    number = opened.headers["Location"].rsplit("=", 1)[1]
    assert [f.name for f in store.describe_files(number)] == ["front.png", "log.txt"]  # before the job ran
    drain(dataclasses.replace(ctx, file_store=store))  # the folder's job finds the folder there and keeps the files
    listed = api.get(f"/tickets/{number}/files", as_="duty").get_json()
    assert [(f["name"], f["size"]) for f in listed] == [("front.png", 8), ("log.txt", 9)]


def test_an_unacceptable_attachment_opens_no_ticket(app: Flask, ctx: Context, api: Api) -> None:
    client = _signed_in(app, ctx, "nordbank")
    refused = client.post(
        "/portal/new", data=_portal_form(client, [(b"x", ".hidden")]), content_type="multipart/form-data"
    )
    assert refused.status_code == 422 and 'id="files-error"' in refused.text
    assert "Give each file an acceptable name." in refused.text
    assert api.get("/tickets", as_="admin").get_json()["items"] == []
