"""The duty officer's desk in a real browser: a ticket opened for a phone call from NORD-BANK (the client found by
typing, its equipment picked from its own installed base) and then seen in "My work", on a desktop in Russian; a
task moved to the next level queue of its team, on a desktop in English. Each page checked with axe-core and
photographed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from service.context import Context
from tests.browser.conftest import DESKTOP, check_accessibility, open_context, screenshot
from tests.browser.test_workspace import _person, _sign_in, _task_id
from tests.e2e.conftest import Stack
from tests.support.tickets import DEMO_TICKET

pytestmark = pytest.mark.e2e
CLARIFY = {"description": "Controller B failed", "severity": "high", "category": "hardware"}


def test_a_phone_call_becomes_a_ticket_in_my_work(stack: Stack, ctx: Context, browser: Any) -> None:
    _person(ctx, "duty", language="ru")
    desk = open_context(browser, stack.base, device=DESKTOP, locale="ru-RU")
    page = desk.new_page()
    page.goto("/tickets/new")
    _sign_in(page, "duty", button="Войти")
    page.wait_for_url(re.compile(r"/tickets/new$"))
    assert page.evaluate("typeof htmx") == "object", "htmx was not served from the app"
    page.get_by_label("Найдите клиента по названию, коду или ИНН").press_sequentially("nord", delay=50)
    results = page.locator("#client-results")
    results.get_by_role("link", name=re.compile("MEGA-RETAIL")).wait_for(state="detached")  # swapped in by htmx
    assert page.url.endswith("/tickets/new")  # the same page: only the results came again
    choice = results.get_by_role("link", name=re.compile("NORD-BANK"))
    check_accessibility(page)
    screenshot(page, "new-ticket-search-desktop-ru")
    choice.click()
    page.wait_for_url(re.compile(r"client=NORD-BANK"))
    serials = page.locator("#equipment_serial option").evaluate_all("options => options.map(o => o.value)")
    assert "IBM-FS5200-0001" in serials and "IBM-V7000-0002" not in serials  # only NORD-BANK's own equipment
    page.select_option("#contact_email", "it@nord-bank.example")
    page.select_option("#equipment_serial", "IBM-FS5200-0001")
    page.fill("#summary", "Массив деградировал")
    page.select_option("#severity", "high")
    assert page.input_value("#channel") == "phone"
    check_accessibility(page)
    screenshot(page, "new-ticket-desktop-ru")
    page.get_by_role("button", name="Открыть заявку").click()
    page.wait_for_url(re.compile(r"/tickets/[^/]+/opened$"))
    number = page.url.split("/")[-2]
    assert number in page.text_content("h1")
    check_accessibility(page)
    screenshot(page, "ticket-opened-desktop-ru")
    ticket = stack.wait_for(number, lambda t: t["status"] == "clarifying")
    assert ticket["channel"] == "phone" and ticket["equipment_serial"] == "IBM-FS5200-0001"
    page.get_by_role("link", name="Перейти к моей работе").click()
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("link", name=re.compile(number)).wait_for()
    check_accessibility(page)
    screenshot(page, "my-work-phone-call-desktop-ru")
    desk.close()


def test_a_task_moved_to_the_teams_next_level(stack: Stack, ctx: Context, browser: Any) -> None:
    number = stack.call("POST", "/tickets", as_="duty", json=DEMO_TICKET).json()["number"]
    clarify = _task_id(stack, number, "clarify", as_="duty")
    done = stack.call("POST", f"/tasks/{clarify}/complete", as_="duty", json={"data": CLARIFY})
    assert done.status_code == 200, done.text
    resolve = _task_id(stack, number, "resolve", as_="storage.l1")
    _person(ctx, "duty", language="en")
    desk = open_context(browser, stack.base, device=DESKTOP, locale="en-US")
    page = desk.new_page()
    page.goto(f"/tasks/{resolve}")
    _sign_in(page, "duty", button="Sign in")
    page.wait_for_url(re.compile(f"/tasks/{resolve}$"))
    assert page.text_content("#task-queues") == "storage-L1"
    page.get_by_label("Another queue of the storage team").select_option("storage-L2")
    check_accessibility(page)
    screenshot(page, "reassign-desktop-en")
    page.get_by_role("button", name="Move to this queue").click()
    page.wait_for_url(re.compile(r"assigned=1$"))
    assert page.text_content("#task-queues") == "storage-L2"
    assert "The task is reassigned." in page.text_content("[role=status]:not([hidden])")
    check_accessibility(page)
    screenshot(page, "reassigned-desktop-en")
    assert resolve in {item["id"] for item in stack.call("GET", "/tasks", as_="storage.l2").json()["items"]}
    desk.close()
