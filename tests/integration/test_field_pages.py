"""On site and at the parts centre: a ticket's files through the API and the task page, check-in and check-out
booking the time on site, and the parts centre's "Parts delivered" moving the ticket on."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapters.files import LocalFolderStore
from service.app import create_app
from service.context import Context
from service.worker import drain
from tests.integration.conftest import Api
from tests.integration.test_permission_matrix import _at_resolve, _waiting_for_parts
from tests.support.signin import csrf_of, sign_in_page

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


@pytest.fixture
def store(ctx: Context, tmp_path: Any) -> LocalFolderStore:
    """A file store of this test alone (ticket numbers start again in every test)."""
    return LocalFolderStore(tmp_path / "files", "https://files.test/tickets")


@pytest.fixture
def app(ctx: Context, store: LocalFolderStore) -> Flask:
    return create_app(context=dataclasses.replace(ctx, file_store=store))


def _upload(api: Api, number: str, parts: list[tuple[bytes, str]], *, as_: str, **more: Any) -> Any:
    body = {"files": [(io.BytesIO(data), name, "text/html") for data, name in parts]}  # the claimed type is a lie
    return api.post(f"/tickets/{number}/files", as_=as_, data=body, content_type="multipart/form-data", **more)


# ---- the files API -----------------------------------------------------------------------------------------------


def test_files_are_uploaded_listed_and_downloaded_by_those_who_see_the_ticket(api: Api) -> None:
    number, _task = _at_resolve(api)

    stored = _upload(api, number, [(PNG, "controller.png"), (b"error 42\n", "log.txt")], as_="nordbank")

    assert stored.status_code == 201, stored.get_json()
    assert [(f["name"], f["size"], f["content_type"]) for f in stored.get_json()] == [
        ("controller.png", len(PNG), "image/png"),
        ("log.txt", 9, "text/plain"),
    ]
    listed = api.get(f"/tickets/{number}/files", as_="storage.l1")
    assert listed.status_code == 200
    assert [(f["name"], f["size"]) for f in listed.get_json()] == [("controller.png", len(PNG)), ("log.txt", 9)]
    assert all(f["uploaded_at"] for f in listed.get_json())
    download = api.get(f"/tickets/{number}/files/controller.png", as_="duty")
    assert download.status_code == 200
    assert download.data == PNG
    assert download.mimetype == "image/png"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="controller.png"')
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    uploads = [e for e in api.history(number) if e["kind"] == "file_uploaded"]
    assert [(e["actor"], e["detail"]["name"], e["detail"]["content_type"]) for e in uploads] == [
        ("nordbank", "controller.png", "image/png"),
        ("nordbank", "log.txt", "text/plain"),
    ]


def test_an_html_file_is_downloaded_as_text_never_rendered(api: Api) -> None:
    number, _task = _at_resolve(api)
    page = b"<html><script>alert(1)</script></html>"
    assert _upload(api, number, [(page, "page.html")], as_="duty").status_code == 201

    download = api.get(f"/tickets/{number}/files/page.html", as_="duty")

    assert download.mimetype == "text/plain"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in download.headers["Content-Security-Policy"]


def test_a_taken_name_gets_a_number_and_keeps_both_files(api: Api) -> None:
    number, _task = _at_resolve(api)
    assert _upload(api, number, [(b"first", "image.jpg")], as_="storage.l1").status_code == 201

    second = _upload(api, number, [(b"second", "image.jpg")], as_="storage.l1")

    assert [f["name"] for f in second.get_json()] == ["image-2.jpg"]
    assert api.get(f"/tickets/{number}/files/image.jpg", as_="duty").data == b"first"
    assert api.get(f"/tickets/{number}/files/image-2.jpg", as_="duty").data == b"second"


def test_a_file_past_the_cap_is_413_and_nothing_is_stored(ctx: Context, store: LocalFolderStore) -> None:
    small = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, upload_mb=0.001), file_store=store)
    api = Api(create_app(context=small).test_client(), small)
    number, _task = _at_resolve(api)

    refused = _upload(api, number, [(b"ok", "small.txt"), (b"x" * 2000, "big.bin")], as_="duty")

    assert refused.status_code == 413
    assert refused.mimetype == "application/problem+json"
    assert "larger than 1048 bytes" in refused.get_json()["detail"]
    assert api.get(f"/tickets/{number}/files", as_="duty").get_json() == []
    assert not [e for e in api.history(number) if e["kind"] == "file_uploaded"]


@pytest.mark.parametrize("name", ["../escape.txt", "..", ".htaccess", "dir/x.txt", "C:boot.ini", "new\nline.txt"])
def test_a_name_that_could_leave_the_folder_is_refused(api: Api, store: LocalFolderStore, name: str) -> None:
    number, _task = _at_resolve(api)

    refused = _upload(api, number, [(b"x", name)], as_="duty")

    assert refused.status_code == 422, refused.get_json()
    assert "files" in refused.get_json()["errors"]
    assert not any(path.is_file() for path in store.root.rglob("*"))


def test_an_upload_without_files_is_refused(api: Api) -> None:
    number, _task = _at_resolve(api)
    refused = api.post(f"/tickets/{number}/files", as_="duty", data={}, content_type="multipart/form-data")
    assert refused.status_code == 422


def test_another_companys_or_teams_ticket_is_not_found(api: Api) -> None:
    number, _task = _at_resolve(api)
    assert _upload(api, number, [(PNG, "photo.png")], as_="nordbank").status_code == 201

    for outsider in ("megaretail", "servers.l1"):
        assert api.get(f"/tickets/{number}/files", as_=outsider).status_code == 404
        assert api.get(f"/tickets/{number}/files/photo.png", as_=outsider).status_code == 404
        assert _upload(api, number, [(PNG, "mine.png")], as_=outsider).status_code == 404
    assert api.get(f"/tickets/{number}/files/nothing.png", as_="duty").status_code == 404
    assert api.get(f"/tickets/{number}/files/..%2F..%2Fetc", as_="duty").status_code == 404


# ---- check-in and check-out --------------------------------------------------------------------------------------


def _entries(api: Api, number: str, *, as_: str = "manager") -> list[dict[str, Any]]:
    return [e for e in api.get("/sla/time-entries?page_size=200", as_=as_).get_json()["items"] if e["ticket"] == number]


def test_check_in_then_out_books_the_time_on_site_once(api: Api) -> None:
    number, task = _at_resolve(api)

    opened = api.post(f"/tasks/{task}/check-in", as_="storage.l1", json={"lat": 55.75, "lon": 37.62})
    assert opened.status_code == 201, opened.get_json()
    assert opened.get_json()["checked_in_position"] == {"lat": 55.75, "lon": 37.62}
    assert opened.get_json()["checked_out_at"] is None and opened.get_json()["hours"] is None
    again = api.post(f"/tasks/{task}/check-in", as_="storage.l1", json={})
    assert again.status_code == 409 and again.get_json()["reason"] == "already_in"
    assert _entries(api, number) == []

    closed = api.post(f"/tasks/{task}/check-out", as_="storage.l1", json={})

    assert closed.status_code == 200, closed.get_json()
    visit = closed.get_json()
    assert visit["checked_out_at"] is not None and visit["checked_out_position"] is None
    entries = _entries(api, number)
    assert [(e["id"], e["engineer"], e["kind"], e["source"], e["team"]) for e in entries] == [
        (visit["time_entry"], "storage.l1", "onsite", "visit", "storage")
    ]
    assert entries[0]["hours"] == visit["hours"] >= 0
    api.complete(number, "resolve", {"outcome": "solved", "hours": 3}, as_="storage.l1")
    assert len(_entries(api, number)) == 1  # the form's hours would count the visit twice
    kinds = [e["kind"] for e in api.history(number)]
    assert kinds.index("checked_in") < kinds.index("checked_out")


def test_check_out_without_a_check_in_and_half_a_position_are_refused(api: Api) -> None:
    _number, task = _at_resolve(api)
    out = api.post(f"/tasks/{task}/check-out", as_="storage.l1", json={})
    assert out.status_code == 409 and out.get_json()["reason"] == "not_in"
    half = api.post(f"/tasks/{task}/check-in", as_="storage.l1", json={"lat": 55.75})
    assert half.status_code == 422 and "lon" in half.get_json()["errors"], half.get_json()
    far = api.post(f"/tasks/{task}/check-in", as_="storage.l1", json={"lat": 91, "lon": 0})
    assert far.status_code == 422


def test_nobody_checks_in_on_a_task_that_is_not_on_site(api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    clarify = api.task(number, "clarify", as_="duty")["id"]
    assert api.post(f"/tasks/{clarify}/check-in", as_="duty", json={}).status_code == 403  # duty books no time
    refused = api.post(f"/tasks/{clarify}/check-in", as_="manager", json={})
    assert refused.status_code == 409 and refused.get_json()["reason"] == "not_on_site"
    _other, task = _at_resolve(api)
    assert api.post(f"/tasks/{task}/check-in", as_="servers.l1", json={}).status_code == 404


# ---- the pages ---------------------------------------------------------------------------------------------------


def _signed_in(app: Flask, ctx: Context, username: str) -> FlaskClient:
    """A browser signed in as the user, who reads English."""
    client = app.test_client()
    sign_in_page(client, ctx, username, language="en")
    return client


def test_an_engineer_checks_in_uploads_a_photo_and_checks_out_on_the_task_page(
    app: Flask, ctx: Context, api: Api
) -> None:
    number, task = _at_resolve(api)
    browser = _signed_in(app, ctx, "storage.l1")
    page = browser.get(f"/tasks/{task}")
    assert 'capture="environment"' in page.text and 'accept="image/*"' in page.text
    assert "Check in</button>" in page.text and "Check out</button>" not in page.text

    checked = browser.post(f"/tasks/{task}/check-in", data={"csrf": csrf_of(page.text), "lat": "", "lon": ""})
    assert checked.status_code == 303 and "onsite=checked_in" in checked.headers["Location"]
    page = browser.get(checked.headers["Location"])
    assert "You are checked in." in page.text and "Check out</button>" in page.text
    photo = {"csrf": csrf_of(page.text), "files": (io.BytesIO(PNG), "IMG_0001.png")}
    uploaded = browser.post(f"/tasks/{task}/files", data=photo, content_type="multipart/form-data")
    assert uploaded.status_code == 303 and "onsite=uploaded" in uploaded.headers["Location"]
    page = browser.get(uploaded.headers["Location"])
    assert f'href="/api/v1/tickets/{number}/files/IMG_0001.png"' in page.text
    assert browser.get(f"/api/v1/tickets/{number}/files/IMG_0001.png").data == PNG  # the link works by the cookie
    out = browser.post(f"/tasks/{task}/check-out", data={"csrf": csrf_of(page.text), "lat": "55.7", "lon": "37.6"})
    assert "onsite=checked_out" in out.headers["Location"]
    assert [(e["kind"], e["source"]) for e in _entries(api, number)] == [("onsite", "visit")]
    again = browser.post(f"/tasks/{task}/check-out", data={"csrf": csrf_of(page.text)})
    assert "onsite=not_in" in again.headers["Location"]
    assert "You are not checked in." in browser.get(again.headers["Location"]).text


def test_a_form_without_the_csrf_value_changes_nothing(app: Flask, ctx: Context, api: Api) -> None:
    number, task = _at_resolve(api)
    browser = _signed_in(app, ctx, "storage.l1")
    assert browser.post(f"/tasks/{task}/check-in", data={}).status_code == 403
    assert not [e for e in api.history(number) if e["kind"] == "checked_in"]


def test_a_task_that_is_not_on_site_has_no_check_in(app: Flask, ctx: Context, api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    clarify = api.task(number, "clarify", as_="duty")["id"]
    page = _signed_in(app, ctx, "duty").get(f"/tasks/{clarify}")
    assert page.status_code == 200 and "Check in" not in page.text and 'type="file"' not in page.text


def test_the_parts_centre_marks_the_parts_delivered_and_the_ticket_goes_on_site(
    app: Flask, ctx: Context, api: Api
) -> None:
    number = _waiting_for_parts(api)
    browser = _signed_in(app, ctx, "rmc")
    page = browser.get("/parts")
    assert page.status_code == 200 and f"Parts delivered for {number}" in page.text

    sent = browser.post(f"/parts/{number}/delivered", data={"csrf": csrf_of(page.text), "delivery_note": "DN-7"})

    assert sent.status_code == 303
    assert f"Delivery of the parts for {number} recorded." in browser.get(sent.headers["Location"]).text
    drain(api.ctx)
    assert api.ticket(number)["status"] != "waiting_parts"
    assert api.task(number, "onsite_visit", as_="storage.l1")["state"] == "open"
    received = [e for e in api.history(number) if e["kind"] == "message_received"]
    assert [(e["actor"], e["detail"]) for e in received] == [
        ("rmc", {"name": "parts_delivered", "data": {"delivery_note": "DN-7"}})
    ]
    twice = browser.post(f"/parts/{number}/delivered", data={"csrf": csrf_of(page.text)})
    assert twice.status_code == 404 and f"{number} does not wait for parts." in twice.text


def test_the_parts_page_is_for_those_who_send_the_message(app: Flask, ctx: Context, api: Api) -> None:
    number = _waiting_for_parts(api)
    engineer = _signed_in(app, ctx, "storage.l1")
    assert engineer.get("/parts").status_code == 403
    refused = engineer.post(f"/parts/{number}/delivered", data={"csrf": csrf_of(engineer.get("/").text)})
    assert refused.status_code == 403
    assert api.ticket(number)["status"] == "waiting_parts"


def test_a_check_in_without_a_body_carries_no_position(api: Api) -> None:
    _number, task = _at_resolve(api)
    opened = api.post(f"/tasks/{task}/check-in", as_="storage.l1")
    assert opened.status_code == 201, opened.get_json()
    assert opened.get_json()["checked_in_position"] is None


def test_a_photo_past_the_cap_is_said_on_the_task_page(ctx: Context, store: LocalFolderStore, api: Api) -> None:
    small = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, upload_mb=0.001), file_store=store)
    app = create_app(context=small)
    number, task = _at_resolve(api)
    browser = _signed_in(app, ctx, "storage.l1")
    page = browser.get(f"/tasks/{task}")
    assert "At most 0.001 MB per file." in page.text

    photo = {"csrf": csrf_of(page.text), "files": (io.BytesIO(PNG * 100), "big.png")}
    refused = browser.post(f"/tasks/{task}/files", data=photo, content_type="multipart/form-data")

    assert "onsite=too_big" in refused.headers["Location"]
    assert "The file is too large." in browser.get(refused.headers["Location"]).text
    assert store.describe_files(number) == []
