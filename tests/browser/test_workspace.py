"""A ticket worked through the browser: the duty officer clarifies it on a desktop (a field error first), a storage
L1 engineer claims and solves it on a phone (the mailed link's sign-in lands on the task), a servers engineer opening
that task gets the not-found page. Russian and English; every page checked with axe-core and photographed."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from sqlalchemy import select

from service.auth.models import User
from service.context import Context
from service.db import transaction
from tests.browser.conftest import DESKTOP, PHONE, check_accessibility, open_context, screenshot
from tests.e2e.conftest import Stack
from tests.support.signin import PASSWORD, set_password
from tests.support.tickets import DEMO_TICKET

pytestmark = pytest.mark.e2e


def _person(ctx: Context, username: str, *, language: str) -> None:
    """A demo user with a password and the language of the browser they use."""
    set_password(ctx, username)
    with transaction(ctx.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        user.language = language


def _task_id(stack: Stack, number: str, name: str, *, as_: str) -> str:
    deadline = time.monotonic() + 30
    while not (found := stack.call("GET", f"/tasks?ticket={number}&name={name}", as_=as_).json()["items"]):
        assert time.monotonic() < deadline, f"{as_} has no {name} task for {number}"
        time.sleep(0.1)
    return str(found[0]["id"])


def _sign_in(page: Any, username: str, *, button: str) -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name=button).click()


def test_a_ticket_worked_in_the_browser(stack: Stack, ctx: Context, browser: Any) -> None:
    number = stack.call("POST", "/tickets", as_="duty", json=DEMO_TICKET).json()["number"]
    stack.wait_for(number, lambda t: t["status"] == "clarifying")
    _person(ctx, "duty", language="en")
    _person(ctx, "storage.l1", language="ru")
    _person(ctx, "servers.l1", language="ru")

    # The duty officer, on a desktop in English: sign-in, My work, the clarify task with an error first.
    desk = open_context(browser, stack.base, device=DESKTOP, locale="en-US")
    page = desk.new_page()
    page.goto("/")
    assert page.url.endswith("/login?next=/")
    assert page.locator("html").get_attribute("lang") == "en"
    check_accessibility(page)
    screenshot(page, "login-desktop-en")
    _sign_in(page, "duty", button="Sign in")
    page.wait_for_url(re.compile(r"/$"))
    row = page.get_by_role("link", name=re.compile(number))
    row.wait_for()
    check_accessibility(page)
    screenshot(page, "my-work-desktop-en")
    row.click()
    page.wait_for_url(re.compile(r"/tasks/"))
    assert number in page.text_content("h2#ticket-heading")
    check_accessibility(page)
    screenshot(page, "task-desktop-en")
    page.get_by_role("button", name="Complete this task").click()
    error = page.locator("#description-error")
    error.wait_for()
    assert error.text_content() == "This field is required."
    assert page.get_attribute("#description", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "description"  # the keyboard lands on the error
    screenshot(page, "task-error-desktop-en")
    page.fill("#description", "Controller B failed")
    page.select_option("#category", "hardware")
    page.get_by_role("button", name="Complete this task").click()
    page.wait_for_url(re.compile(r"completed="))
    assert f"Task of {number} completed." in page.text_content("[role=status]:not([hidden])")
    stack.wait_for(number, lambda t: t["team"] == "storage")
    resolve = _task_id(stack, number, "resolve", as_="storage.l1")

    # A storage L1 engineer on a phone in Russian opens the task's link: sign-in first, then the task itself.
    phone = open_context(browser, stack.base, device=PHONE, locale="ru-RU")
    page = phone.new_page()
    page.goto(f"/tasks/{resolve}")
    assert f"next=/tasks/{resolve}" in page.url
    screenshot(page, "login-phone-ru")
    _sign_in(page, "storage.l1", button="Войти")
    page.wait_for_url(re.compile(f"/tasks/{resolve}$"))
    screenshot(page, "task-phone-ru")
    page.get_by_role("button", name="Взять задачу").click()
    page.get_by_role("button", name="Вернуть задачу в очередь").wait_for()
    check_accessibility(page)
    page.select_option("#outcome", "solved")
    page.fill("#hours", "1.5")
    page.get_by_role("button", name="Выполнить задачу").click()
    page.wait_for_url(re.compile(r"completed="))
    assert f"Задача по заявке {number} выполнена." in page.text_content("[role=status]:not([hidden])")
    check_accessibility(page)
    screenshot(page, "my-work-phone-ru")
    assert stack.call("GET", f"/tickets/{number}/history", as_="admin").status_code == 200

    # A servers engineer opening the storage task's address: the not-found page, nothing of the ticket.
    other = open_context(browser, stack.base, device=DESKTOP, locale="ru-RU")
    page = other.new_page()
    page.goto(f"/tasks/{resolve}")
    _sign_in(page, "servers.l1", button="Войти")
    page.wait_for_url(re.compile(f"/tasks/{resolve}$"))
    assert page.text_content("h1") == "Не найдено"
    assert number not in page.content()
    check_accessibility(page)
    screenshot(page, "not-found-desktop-ru")
    for context in (desk, phone, other):
        context.close()


def test_my_work_refreshes_itself(stack: Stack, ctx: Context, browser: Any) -> None:
    """The rows come again from the server (htmx, every 30 s) without the page reloading: a ticket opened after
    the page was shown appears in it."""
    _person(ctx, "duty", language="ru")
    phone = open_context(browser, stack.base, device=PHONE, locale="ru-RU")
    page = phone.new_page()
    page.clock.install()
    page.goto("/login?next=/")
    _sign_in(page, "duty", button="Войти")
    page.wait_for_url(re.compile(r"/$"))
    assert page.evaluate("typeof htmx") == "object", "htmx was not served from the app"
    page.evaluate("window.__same_page = true")
    number = stack.call("POST", "/tickets", as_="duty", json=DEMO_TICKET).json()["number"]
    stack.wait_for(number, lambda t: t["status"] == "clarifying")
    page.clock.run_for(31_000)
    page.get_by_role("link", name=re.compile(number)).wait_for(timeout=10_000)
    assert page.evaluate("window.__same_page") is True
    phone.close()
