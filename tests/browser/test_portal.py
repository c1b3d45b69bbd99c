"""The client portal in a real browser: a Nord Bank user on a phone in Russian opens a ticket on their installed base
(a field error first), sees it in their list with its reaction clock and opens its page, with the file they put in
its folder; a Mega Retail user opening that ticket on a desktop in English gets the not-found page. Every page is
checked with axe-core and photographed."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from service.context import Context
from tests.browser.conftest import DESKTOP, PHONE, check_accessibility, open_context, screenshot
from tests.browser.test_workspace import _person, _sign_in
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def _folder(stack: Stack, number: str) -> Any:
    """The ticket's folder, once the worker made it."""
    deadline = time.monotonic() + 30
    folder = stack.files / number
    while not folder.is_dir():
        assert time.monotonic() < deadline, f"the worker made no folder for {number}"
        time.sleep(0.1)
    return folder


def test_a_client_opens_a_ticket_in_the_portal(stack: Stack, ctx: Context, browser: Any) -> None:
    _person(ctx, "nordbank", language="ru")
    _person(ctx, "megaretail", language="en")

    # Nord Bank on a phone in Russian: "/" after the sign-in is the portal; the form, an error, then the ticket.
    phone = open_context(browser, stack.base, device=PHONE, locale="ru-RU")
    page = phone.new_page()
    page.goto("/")
    _sign_in(page, "nordbank", button="Войти")
    page.wait_for_url(re.compile(r"/portal$"))
    assert page.text_content("h1") == "Мои заявки"
    check_accessibility(page)
    screenshot(page, "portal-empty-phone-ru")
    page.get_by_role("link", name="Открыть новую заявку").click()
    page.wait_for_url(re.compile(r"/portal/new$"))
    check_accessibility(page)
    screenshot(page, "portal-new-phone-ru")
    page.select_option("#equipment_serial", "IBM-FS5200-0001")
    page.get_by_role("button", name="Открыть заявку").click()
    error = page.locator("#summary-error")
    error.wait_for()
    assert error.text_content() == "Опишите неисправность одной строкой (не больше 200 символов)."
    assert page.evaluate("document.activeElement.id") == "summary"  # the keyboard lands on the error
    check_accessibility(page)
    screenshot(page, "portal-new-error-phone-ru")
    page.fill("#summary", "Дисковый массив деградировал")
    page.fill("#description", "Контроллер B сообщает об ошибках")
    page.select_option("#severity", "high")
    page.get_by_role("button", name="Открыть заявку").click()
    page.wait_for_url(re.compile(r"/portal\?opened="))
    number = page.url.rsplit("=", 1)[1]
    assert f"Заявка {number} открыта." in page.text_content("[role=status]:not([hidden])")
    row = page.get_by_role("link", name=re.compile(number))
    assert "Реакция" in page.text_content("ul.portal-tickets")
    check_accessibility(page)
    screenshot(page, "portal-list-phone-ru")

    (_folder(stack, number) / "diagnostics.log").write_text("controller B: errors\n")
    row.click()
    page.wait_for_url(re.compile(f"/portal/tickets/{number}$"))
    assert number in page.text_content("h1")
    assert "Реакция" in page.text_content("ul.clocks")
    assert "diagnostics.log" in page.text_content("ul.files")
    assert "Заявка открыта (канал: портал)." in page.text_content("ol.history")
    check_accessibility(page)
    screenshot(page, "portal-ticket-phone-ru")

    # Mega Retail on a desktop in English, at the address of Nord Bank's ticket: the not-found page.
    desk = open_context(browser, stack.base, device=DESKTOP, locale="en-US")
    page = desk.new_page()
    page.goto(f"/portal/tickets/{number}")
    _sign_in(page, "megaretail", button="Sign in")
    page.wait_for_url(re.compile(f"/portal/tickets/{number}$"))
    assert page.text_content("h1") == "Not found"
    assert "Дисковый" not in page.content()
    check_accessibility(page)
    screenshot(page, "portal-not-found-desktop-en")
    for context in (phone, desk):
        context.close()
