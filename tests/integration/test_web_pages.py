"""The workspace's pages through the Flask client: sign-in with `next`, CSRF on every form, "My work", the task
page's form and its refusals, the not-found page, and the catalogues kept complete."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.auth.models import User
from service.context import Context
from service.db import transaction
from service.sla.models import SlaClock
from service.web.i18n import LANGUAGES, SOURCES
from service.web.signin import safe_next
from service.worker import drain
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.support.signin import PASSWORD, csrf_of, set_password, sign_in_page

CLARIFY = {"description": "Controller B failed", "category": "hardware"}


def _language(ctx: Context, username: str, language: str) -> None:
    with transaction(ctx.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        user.language = language


@pytest.fixture
def browser(app: Flask) -> FlaskClient:
    return app.test_client()


def _clarify_task(api: Api) -> tuple[str, str]:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    return number, api.task(number, "clarify", as_="duty")["id"]


def test_a_page_needing_sign_in_goes_there_and_back(browser: FlaskClient, ctx: Context, api: Api) -> None:
    _number, task_id = _clarify_task(api)
    first = browser.get(f"/tasks/{task_id}")
    assert first.status_code == 303 and first.headers["Location"] == f"/login?next=/tasks/{task_id}"
    set_password(ctx, "duty")
    form = browser.get(first.headers["Location"])
    assert f'name="next" value="/tasks/{task_id}"' in form.text
    answer = browser.post(
        "/login",
        data={"username": "duty", "password": PASSWORD, "next": f"/tasks/{task_id}", "csrf": csrf_of(form.text)},
    )
    assert answer.status_code == 303 and answer.headers["Location"] == f"/tasks/{task_id}"
    cookie = browser.get_cookie("orchestrator_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "evil", ""]
)
def test_the_sign_in_never_goes_to_another_site(browser: FlaskClient, ctx: Context, target: str) -> None:
    assert safe_next(target) == "/"
    set_password(ctx, "duty")
    form = browser.get("/login")
    answer = browser.post(
        "/login", data={"username": "duty", "password": PASSWORD, "next": target, "csrf": csrf_of(form.text)}
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/"


def test_a_wrong_password_is_said_on_the_page_and_throttled_plainly(browser: FlaskClient, ctx: Context) -> None:
    set_password(ctx, "duty")
    form = browser.get("/login", headers={"Accept-Language": "en-US"})
    token = csrf_of(form.text)
    wrong = browser.post(
        "/login", data={"username": "duty", "password": "nope", "csrf": token}, headers={"Accept-Language": "en"}
    )
    assert wrong.status_code == 401 and "The username or the password is wrong." in wrong.text
    answer = wrong
    for _attempt in range(ctx.config.login_throttle_after + 2):
        answer = browser.post(
            "/login", data={"username": "duty", "password": "nope", "csrf": token}, headers={"Accept-Language": "en"}
        )
        if answer.status_code == 429:
            break
    assert answer.status_code == 429 and "Too many failed sign-ins" in answer.text
    empty = browser.post("/login", data={"username": "", "password": "", "csrf": token})
    assert empty.status_code == 422 and 'id="username-error"' in empty.text and 'id="password-error"' in empty.text


def test_a_form_without_its_csrf_value_is_refused(browser: FlaskClient, ctx: Context, api: Api) -> None:
    set_password(ctx, "duty")
    browser.get("/login")
    refused = browser.post("/login", data={"username": "duty", "password": PASSWORD, "csrf": "forged"})
    assert refused.status_code == 403 and browser.get_cookie("orchestrator_session") is None
    sign_in_page(browser, ctx, "duty")
    _number, task_id = _clarify_task(api)
    assert browser.post(f"/tasks/{task_id}/claim", data={}).status_code == 403
    assert browser.post(f"/tasks/{task_id}/claim", data={"csrf": "x" * 64}).status_code == 403
    assert browser.post("/logout", data={}).status_code == 403
    assert api.task(_number, "clarify", as_="duty")["claimed_by"] is None
    page = browser.get(f"/tasks/{task_id}")
    assert browser.post(f"/tasks/{task_id}/claim", data={"csrf": csrf_of(page.text)}).status_code == 303
    assert api.task(_number, "clarify", as_="duty")["claimed_by"] == "duty"


def test_my_work_lists_the_queue_and_refreshes_in_part(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number, task_id = _clarify_task(api)
    _language(ctx, "duty", "en")
    sign_in_page(browser, ctx, "duty")
    page = browser.get("/")
    assert page.status_code == 200 and number in page.text and f'href="/tasks/{task_id}"' in page.text
    assert 'hx-trigger="every 30s"' in page.text and "<h1>My work</h1>" in page.text
    rows = browser.get("/work/rows?sort=due")
    assert rows.status_code == 200 and number in rows.text and "<html" not in rows.text
    other = browser.get("/?severity=low")
    assert number not in other.text and "No open tasks." in other.text
    assert 'src="/assets/vendor/htmx.min.js"' in page.text and "cdn" not in page.text.lower()
    htmx = browser.get("/assets/vendor/htmx.min.js")
    assert htmx.status_code == 200 and b"htmx" in htmx.data
    css = browser.get("/assets/workspace.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert browser.get("/assets/vendor/axe.min.js").status_code == 404


def test_an_unsigned_partial_refresh_sends_the_page_to_the_sign_in(browser: FlaskClient) -> None:
    answer = browser.get("/work/rows", headers={"HX-Request": "true"})
    assert answer.status_code == 204 and answer.headers["HX-Redirect"].startswith("/login?next=/work/rows")


def test_the_task_form_shows_field_errors_then_completes(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number, task_id = _clarify_task(api)
    _language(ctx, "duty", "ru")
    sign_in_page(browser, ctx, "duty")
    page = browser.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and number in page.text
    assert '<select id="severity" name="severity"' in page.text and 'name="description"' in page.text
    assert "Выполнить задачу" in page.text
    refused = browser.post(f"/tasks/{task_id}/complete", data={"csrf": csrf_of(page.text), "description": " "})
    assert refused.status_code == 422 and 'id="description-error"' in refused.text
    assert "Заполните это поле." in refused.text
    done = browser.post(f"/tasks/{task_id}/complete", data={"csrf": csrf_of(page.text), **CLARIFY, "severity": "high"})
    assert done.status_code == 303 and done.headers["Location"] == f"/?completed={number}"
    assert api.ticket(number)["team"] == "storage"
    again = browser.post(f"/tasks/{task_id}/complete", data={"csrf": csrf_of(page.text), **CLARIFY})
    assert again.status_code == 409 and "уже выполнена" in again.text and "duty" in again.text


def test_someone_elses_claim_is_a_plain_message(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(ctx)
    api.complete(number, "clarify", CLARIFY, as_="duty")
    task_id = api.task(number, "resolve", as_="storage.l1")["id"]
    _language(ctx, "storage.l1", "en")
    sign_in_page(browser, ctx, "storage.l1")
    page = browser.get(f"/tasks/{task_id}")
    assert api.post(f"/tasks/{task_id}/claim", as_="storage.l2").status_code in (200, 404)
    api.post(f"/tasks/{task_id}/claim", as_="admin")
    taken = browser.post(f"/tasks/{task_id}/claim", data={"csrf": csrf_of(page.text)})
    assert taken.status_code == 409 and "admin has taken this task." in taken.text
    assert api.post(f"/tasks/{task_id}/release", as_="admin").status_code == 200
    mine = browser.post(f"/tasks/{task_id}/claim", data={"csrf": csrf_of(page.text)})
    assert mine.status_code == 303 and "Give this task back" in browser.get(f"/tasks/{task_id}").text
    assert api.post(f"/tasks/{task_id}/release", as_="admin").status_code == 409
    back = browser.post(f"/tasks/{task_id}/release", data={"csrf": csrf_of(page.text)})
    assert back.status_code == 303 and api.task(number, "resolve", as_="storage.l1")["claimed_by"] is None


def test_someone_elses_task_is_the_not_found_page(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(ctx)
    api.complete(number, "clarify", CLARIFY, as_="duty")
    task_id = api.task(number, "resolve", as_="storage.l1")["id"]
    _language(ctx, "servers.l1", "en")
    sign_in_page(browser, ctx, "servers.l1")
    page = browser.get(f"/tasks/{task_id}")
    assert page.status_code == 404 and page.mimetype == "text/html" and "Not found" in page.text
    assert number not in page.text
    assert browser.post(f"/tasks/{task_id}/claim", data={"csrf": csrf_of(page.text)}).status_code == 404
    nowhere = browser.get("/no/such/page", headers={"Accept-Language": "ru"})  # the person's language wins
    assert nowhere.status_code == 404 and "Not found" in nowhere.text
    assert browser.get("/api/v1/no/such").mimetype == "application/problem+json"


def test_a_password_link_sets_the_password_with_errors_beside_the_field(browser: FlaskClient) -> None:
    form = browser.get("/password?token=nope", headers={"Accept-Language": "en"})
    short = browser.post(
        "/password",
        data={"token": "nope", "password": "a", "password_again": "b", "csrf": csrf_of(form.text)},
        headers={"Accept-Language": "en"},
    )
    assert short.status_code == 422 and 'id="password_again-error"' in short.text
    bad = browser.post(
        "/password",
        data={"token": "nope", "password": "long enough", "password_again": "long enough", "csrf": csrf_of(form.text)},
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 422 and "The link is not valid" in bad.text


def test_the_locale_is_the_persons_else_the_browsers_else_russian(browser: FlaskClient) -> None:
    assert 'lang="en"' in browser.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert 'lang="ru"' in browser.get("/login", headers={"Accept-Language": "ru-RU"}).text
    assert 'lang="ru"' in browser.get("/login", headers={"Accept-Language": "de"}).text
    assert "Войти" in browser.get("/login").text
    nowhere = browser.get("/no/such/page", headers={"Accept-Language": "ru"})
    assert nowhere.status_code == 404 and "Не найдено" in nowhere.text


def test_every_message_is_translated_in_both_catalogues(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as source:
        wanted = {message.id for message in read_po(source) if message.id}
    assert len(wanted) > 50
    for language in LANGUAGES:
        with (SOURCES / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
            catalogue = read_po(source, locale=language)
        translated = {message.id for message in catalogue if message.id and message.string and not message.fuzzy}
        assert not wanted - translated, f"{language}: no translation of {sorted(wanted - translated)}"


def test_times_are_shown_in_the_persons_time_zone(browser: FlaskClient, ctx: Context, api: Api) -> None:
    _number, task_id = _clarify_task(api)
    with ctx.sessions() as session:
        due = session.scalars(select(SlaClock.due_at).where(SlaClock.due_at.is_not(None))).first()
    assert due is not None
    sign_in_page(browser, ctx, "duty")
    shown = {}
    for zone in ("Asia/Kamchatka", "America/Los_Angeles"):
        with transaction(ctx.sessions) as session:
            user = session.scalar(select(User).where(User.username == "duty"))
            assert user is not None
            user.time_zone, user.language = zone, "en"
        page = browser.get(f"/tasks/{task_id}").text
        shown[zone] = format_datetime(due, "short", tzinfo=ZoneInfo(zone), locale="en")
        assert shown[zone] in page
    assert shown["Asia/Kamchatka"] != shown["America/Los_Angeles"]
