"""The issue's main path, each role in its own browser: a Nord Bank user opens a ticket from the portal on a phone in
Russian, the duty officer clarifies it on a desktop in English, a storage L1 engineer claims and solves it on a phone
in Russian, and the client sees it closed in the portal. Against gunicorn and the worker; each page checked with
axe-core and photographed (`journey-*.png`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from service.context import Context
from tests.browser.conftest import DESKTOP, PHONE, check_accessibility, open_context, screenshot
from tests.browser.test_workspace import _person, _sign_in
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def _task_page(browser: Any, stack: Stack, username: str, number: str, *, device: dict[str, Any], locale: str) -> Any:
    """A new browser of `username` signed in, on the ticket's task as "My work" leads to it."""
    page = open_context(browser, stack.base, device=device, locale=locale).new_page()
    page.goto("/login?next=/")
    _sign_in(page, username, button="Sign in" if locale == "en-US" else "Войти")
    page.wait_for_url(re.compile(r"/$"))
    row = page.get_by_role("link", name=re.compile(number))
    row.wait_for(timeout=30_000)
    row.click()
    page.wait_for_url(re.compile(r"/tasks/"))
    assert number in page.text_content("h2#ticket-heading")
    return page


def test_a_ticket_from_the_portal_to_its_closing(stack: Stack, ctx: Context, browser: Any) -> None:
    _person(ctx, "nordbank", language="ru")
    _person(ctx, "duty", language="en")
    _person(ctx, "storage.l1", language="ru")

    # 1. The client, on a phone in Russian, opens a ticket on their array from the portal.
    client = open_context(browser, stack.base, device=PHONE, locale="ru-RU").new_page()
    client.goto("/portal/new")
    _sign_in(client, "nordbank", button="Войти")
    client.wait_for_url(re.compile(r"/portal/new$"))
    client.select_option("#equipment_serial", "IBM-FS5200-0001")
    client.fill("#summary", "Дисковый массив деградировал")
    client.fill("#description", "Контроллер B сообщает об ошибках")
    client.select_option("#severity", "high")
    check_accessibility(client)
    screenshot(client, "journey-portal-new-phone-ru")
    client.get_by_role("button", name="Открыть заявку").click()
    client.wait_for_url(re.compile(r"/portal\?opened="))
    number = client.url.rsplit("=", 1)[1]
    assert f"Заявка {number} открыта." in client.text_content("[role=status]:not([hidden])")
    stack.wait_for(number, lambda t: t["status"] == "clarifying")

    # 2. The duty officer, on a desktop in English, clarifies it from "My work".
    duty = _task_page(browser, stack, "duty", number, device=DESKTOP, locale="en-US")
    check_accessibility(duty)
    screenshot(duty, "journey-clarify-desktop-en")
    duty.fill("#description", "Controller B reports errors; the array is degraded")
    duty.select_option("#category", "hardware")
    duty.get_by_role("button", name="Complete this task").click()
    duty.wait_for_url(re.compile(r"completed="))
    assert f"Task of {number} completed." in duty.text_content("[role=status]:not([hidden])")
    stack.wait_for(number, lambda t: t["team"] == "storage")

    # 3. A storage L1 engineer, on a phone in Russian, takes the task and solves it.
    engineer = _task_page(browser, stack, "storage.l1", number, device=PHONE, locale="ru-RU")
    engineer.get_by_role("button", name="Взять задачу").click()
    engineer.get_by_role("button", name="Вернуть задачу в очередь").wait_for()
    check_accessibility(engineer)
    screenshot(engineer, "journey-resolve-phone-ru")
    engineer.select_option("#outcome", "solved")
    engineer.fill("#hours", "1.5")
    engineer.get_by_role("button", name="Выполнить задачу").click()
    engineer.wait_for_url(re.compile(r"completed="))
    assert f"Задача по заявке {number} выполнена." in engineer.text_content("[role=status]:not([hidden])")
    stack.wait_for(number, lambda t: t["status"] == "closed")

    # 4. The client sees the ticket closed in the portal.
    client.goto(f"/portal/tickets/{number}")
    assert "закрыта" in client.text_content("dl.facts")
    check_accessibility(client)
    screenshot(client, "journey-portal-closed-phone-ru")
    for page in (client, duty, engineer):
        page.context.close()
