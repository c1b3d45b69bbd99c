"""'My work' in a real browser: a duty officer on a phone in Russian saves a filter, picks it and reads the counts
per queue; a consultant on a desktop in English types an estimate and the total follows each cost. Every page
checked with axe-core and photographed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, check_accessibility, open_context, screenshot
from tests.browser.test_workspace import _person, _sign_in, _task_id
from tests.e2e.conftest import Stack
from tests.support.tickets import DEMO_TICKET, PER_CALL_TICKET

pytestmark = pytest.mark.e2e


def test_a_saved_filter_on_a_phone_and_the_estimate_total_as_typed(stack: Stack, ctx: Any, browser: Any) -> None:
    critical = stack.call("POST", "/tickets", as_="duty", json={**DEMO_TICKET, "severity": "critical"}).json()
    per_call = stack.call("POST", "/tickets", as_="duty", json=PER_CALL_TICKET).json()["number"]
    for number in (critical["number"], per_call):
        stack.wait_for(number, lambda t: t["status"] == "clarifying")
    _person(ctx, "duty", language="ru")
    _person(ctx, "consultant", language="en")

    # The duty officer on a phone in Russian: filter by severity, save it, come back to it by its name.
    phone = open_context(browser, stack.base, device=PHONE, locale="ru-RU")
    page = phone.new_page()
    page.goto("/")
    _sign_in(page, "duty", button="Войти")
    page.wait_for_url(re.compile(r"/$"))
    page.select_option("#severity", "critical")
    page.select_option("#sort", "sla")
    page.get_by_role("button", name="Показать", exact=True).click()
    page.wait_for_url(re.compile(r"severity=critical"))
    page.fill("#filter-name", "Критичные")
    page.get_by_role("button", name="Сохранить этот фильтр").click()
    page.wait_for_url(re.compile(r"severity=critical&sort=sla$"))
    page.goto("/")
    assert page.locator(".tasks .ticket").count() == 2
    page.select_option("#saved-id", label="Критичные")
    page.get_by_role("button", name="Показать по этому фильтру").click()
    page.wait_for_url(re.compile(r"severity=critical&sort=sla$"))
    assert page.locator(".tasks .ticket").all_text_contents() == [critical["number"]]
    assert page.input_value("#severity") == "critical" and page.input_value("#sort") == "sla"
    counts = page.get_by_role("list", name="Открытые задачи по очередям")
    assert counts.locator("li", has_text="duty").locator(".count").text_content() == "2"
    check_accessibility(page)
    screenshot(page, "my-work-saved-phone-ru")

    # The clarified per-call ticket reaches the consultant, who prices it on a desktop in English.
    clarify = _task_id(stack, per_call, "clarify", as_="duty")
    answer = {"data": {"description": "VLAN lost", "category": "configuration"}}
    assert stack.call("POST", f"/tasks/{clarify}/complete", as_="duty", json=answer).status_code == 200
    estimate = _task_id(stack, per_call, "estimate", as_="consultant")
    desk = open_context(browser, stack.base, device=DESKTOP, locale="en-US")
    page = desk.new_page()
    page.goto(f"/tasks/{estimate}")
    _sign_in(page, "consultant", button="Sign in")
    page.wait_for_url(re.compile(f"/tasks/{estimate}$"))
    total = page.locator("#estimate-total")
    assert total.text_content() == "0.00"
    assert page.locator("table.prices tbody tr").count() > 0
    page.fill("#diagnostics_cost", "12000")
    assert total.text_content() == "12,000.00"
    page.fill("#repair_cost", "800.5")
    page.fill("#parts_cost", "1500")
    assert total.text_content() == "14,300.50"
    check_accessibility(page)
    screenshot(page, "estimate-desktop-en")
    page.get_by_role("button", name="Complete this task").click()
    page.wait_for_url(re.compile(r"completed="))
    for context in (phone, desk):
        context.close()
