"""The per-call and the parts paths, each role in its own browser, against gunicorn and the worker.

Per call: a ticket of NEW-CLIENT (no contract) is clarified by the duty officer on a desktop in Russian, priced by
the consultant on a desktop in English (the total follows the costs), its acceptance and payment recorded by the
duty officer, and solved by a network L1 engineer on a phone in Russian. Parts: a storage L1 engineer on a phone in
Russian says parts are needed, the parts centre orders them and says they are delivered on a desktop in English,
and the engineer checks in on the visit on site and solves it. Each page checked with axe-core and photographed
(`paths-*.png`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from service.context import Context
from tests.browser.conftest import DESKTOP, PHONE, check_accessibility, screenshot
from tests.browser.test_journeys import _task_page
from tests.browser.test_workspace import _person
from tests.e2e.conftest import Stack
from tests.support.tickets import DEMO_TICKET, PER_CALL_TICKET

pytestmark = pytest.mark.e2e
CLARIFY = {"description": "Controller B failed", "category": "hardware"}
#: The completion button and what "My work" says afterwards, per language.
COMPLETE = {
    "ru": ("Выполнить задачу", "Задача по заявке {number} выполнена."),
    "en": ("Complete this task", "Task of {number} completed."),
}


def _complete(page: Any, number: str, *, shot: str) -> None:
    """Check the task page with axe-core, photograph it as `shot`, press its completion button in the page's
    language; "My work" says the task of `number` is done."""
    check_accessibility(page)
    screenshot(page, shot)
    button, done = COMPLETE[page.locator("html").get_attribute("lang")]
    page.get_by_role("button", name=button).click()
    page.wait_for_url(re.compile(r"completed="))
    assert done.format(number=number) in page.text_content("[role=status]:not([hidden])")


def _open_row(page: Any, number: str) -> None:
    """From "My work" (read again), to the ticket's task."""
    page.goto("/")
    row = page.get_by_role("link", name=re.compile(number))
    row.wait_for()
    row.click()
    page.wait_for_url(re.compile(r"/tasks/"))


def test_a_per_call_ticket_priced_paid_and_solved(stack: Stack, ctx: Context, browser: Any) -> None:
    number = stack.call("POST", "/tickets", as_="duty", json=PER_CALL_TICKET).json()["number"]
    stack.wait_for(number, lambda t: t["status"] == "clarifying")
    _person(ctx, "duty", language="ru")
    _person(ctx, "consultant", language="en")
    _person(ctx, "network.l1", language="ru")

    # 1. The duty officer, on a desktop in Russian, clarifies it: no contract covers it, so it goes to be priced.
    duty = _task_page(browser, stack, "duty", number, device=DESKTOP, locale="ru-RU")
    assert duty.text_content("h1") == "Уточнить детали заявки"  # the diagram's name, in the person's language
    duty.fill("#description", "Коммутатор теряет VLAN после перезагрузки")
    duty.select_option("#category", "hardware")
    _complete(duty, number, shot="paths-clarify-desktop-ru")
    stack.wait_for(number, lambda t: t["status"] == "estimating")

    # 2. The consultant, on a desktop in English, prices it; the total follows what is typed.
    consultant = _task_page(browser, stack, "consultant", number, device=DESKTOP, locale="en-US")
    total = consultant.locator("#estimate-total")
    consultant.fill("#diagnostics_cost", "12000")
    assert total.text_content() == "12,000.00"
    consultant.fill("#repair_cost", "8000.5")
    assert total.text_content() == "20,000.50"
    _complete(consultant, number, shot="paths-estimate-desktop-en")
    stack.wait_for(number, lambda t: t["status"] == "awaiting_payment")

    # 3. The duty officer records that the client accepted the estimate and paid.
    _open_row(duty, number)
    duty.get_by_label("Клиент принял смету").check()
    duty.get_by_label("Оплата получена").check()
    _complete(duty, number, shot="paths-payment-desktop-ru")
    ticket = stack.wait_for(number, lambda t: t["team"] == "network" and t["status"] == "in_progress")
    assert ticket["route"] == "per_call" and ticket["paid"] is True

    # 4. A network L1 engineer, on a phone in Russian, takes it from the engineering queue and solves it.
    engineer = _task_page(browser, stack, "network.l1", number, device=PHONE, locale="ru-RU")
    engineer.get_by_role("button", name="Взять задачу").click()
    engineer.get_by_role("button", name="Вернуть задачу в очередь").wait_for()
    engineer.select_option("#outcome", "solved")
    engineer.fill("#hours", "1")
    _complete(engineer, number, shot="paths-resolve-phone-ru")
    stack.wait_for(number, lambda t: t["status"] == "closed")
    for page in (duty, consultant, engineer):
        page.context.close()


def test_parts_ordered_delivered_and_fitted_on_site(stack: Stack, ctx: Context, browser: Any) -> None:
    number = stack.call("POST", "/tickets", as_="duty", json=DEMO_TICKET).json()["number"]
    stack.wait_for(number, lambda t: t["status"] == "clarifying")
    clarify = stack.call("GET", f"/tasks?ticket={number}&name=clarify", as_="duty").json()["items"][0]["id"]
    assert stack.call("POST", f"/tasks/{clarify}/complete", as_="duty", json={"data": CLARIFY}).status_code == 200
    _person(ctx, "storage.l1", language="ru")
    _person(ctx, "rmc", language="en")

    # 1. A storage L1 engineer, on a phone in Russian, finds that a part is needed.
    engineer = _task_page(browser, stack, "storage.l1", number, device=PHONE, locale="ru-RU")
    assert engineer.locator("#outcome option[value=need_parts]").text_content() == "Нужны запчасти"
    engineer.select_option("#outcome", "need_parts")
    engineer.fill("#parts", "Контроллер B")
    _complete(engineer, number, shot="paths-need-parts-phone-ru")
    stack.wait_for(number, lambda t: t["status"] == "ordering_parts")

    # 2. The parts centre, on a desktop in English, orders it, then says it is delivered on the parts page.
    rmc = _task_page(browser, stack, "rmc", number, device=DESKTOP, locale="en-US")
    assert rmc.text_content("h1") == "Order parts"
    rmc.select_option("#source", "logistics")
    rmc.fill("#order_ref", "PO-4711")
    rmc.fill("#eta", "2026-12-15")
    assert rmc.get_by_role("link", name="Tickets waiting for parts").get_attribute("href") == "/parts"
    _complete(rmc, number, shot="paths-order-parts-desktop-en")
    stack.wait_for(number, lambda t: t["status"] == "waiting_parts")
    rmc.goto("/parts")
    rmc.get_by_label("Delivery note").fill("DN-0815")
    check_accessibility(rmc)
    screenshot(rmc, "paths-parts-desktop-en")
    rmc.get_by_role("button", name=f"Parts delivered for {number}").click()
    rmc.wait_for_url(re.compile(r"delivered="))
    assert f"Delivery of the parts for {number} recorded." in rmc.text_content("[role=status]:not([hidden])")
    assert rmc.get_by_role("button", name=f"Parts delivered for {number}").count() == 0
    check_accessibility(rmc)
    screenshot(rmc, "paths-parts-delivered-desktop-en")
    stack.wait_for(number, lambda t: t["status"] == "onsite")

    # 3. The engineer finds the visit on site in "My work", checks in and solves it.
    _open_row(engineer, number)
    assert engineer.text_content("h1") == "Ремонт на объекте"
    assert "на выезде" in engineer.text_content("dl.facts")
    engineer.get_by_role("button", name="Отметить приход").click()
    engineer.wait_for_url(re.compile(r"onsite=checked_in"))
    engineer.select_option("#outcome", "solved")
    engineer.fill("#hours", "2")
    _complete(engineer, number, shot="paths-onsite-visit-phone-ru")
    stack.wait_for(number, lambda t: t["status"] == "closed")
    history = stack.call("GET", f"/tickets/{number}/history?page_size=200", as_="admin").json()["items"]
    delivered = next(e for e in history if e["kind"] == "message_received")
    assert delivered["detail"] == {"name": "parts_delivered", "data": {"delivery_note": "DN-0815"}}
    for page in (engineer, rmc):
        page.context.close()
