"""On site, on a phone in Russian: a storage L1 engineer checks in on the task (sharing the position), takes a
photo into the ticket's folder, and checks out; the time on site is booked. Every page checked with axe-core and
photographed (the names are listed in docs/workspace.md, "On site")."""

from __future__ import annotations

import re
import struct
import time
import zlib
from typing import Any

import pytest

from service.context import Context
from tests.browser.conftest import PHONE, check_accessibility, open_context, screenshot
from tests.browser.test_workspace import _person, _sign_in, _task_id
from tests.e2e.conftest import Stack
from tests.support.tickets import DEMO_TICKET

pytestmark = pytest.mark.e2e
CLARIFY = {"description": "Controller B failed", "category": "hardware"}
WHERE = {"latitude": 55.7558, "longitude": 37.6173}


def _png() -> bytes:
    """A 2x2 grey PNG, made here."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _entries(stack: Stack, number: str) -> list[dict[str, Any]]:
    items = stack.call("GET", "/sla/time-entries?page_size=200", as_="manager").json()["items"]
    return [entry for entry in items if entry["ticket"] == number]


def test_an_engineer_on_site_checks_in_takes_a_photo_and_checks_out(stack: Stack, ctx: Context, browser: Any) -> None:
    number = stack.call("POST", "/tickets", as_="duty", json=DEMO_TICKET).json()["number"]
    clarify = _task_id(stack, number, "clarify", as_="duty")
    assert stack.call("POST", f"/tasks/{clarify}/complete", as_="duty", json={"data": CLARIFY}).status_code == 200
    resolve = _task_id(stack, number, "resolve", as_="storage.l1")
    _person(ctx, "storage.l1", language="ru")

    device = {**PHONE, "geolocation": WHERE, "permissions": ["geolocation"]}
    phone = open_context(browser, stack.base, device=device, locale="ru-RU")
    page = phone.new_page()
    page.goto(f"/tasks/{resolve}")
    _sign_in(page, "storage.l1", button="Войти")
    page.wait_for_url(re.compile(f"/tasks/{resolve}$"))
    section = page.locator("#onsite")
    assert section.get_by_role("heading", name="На объекте").is_visible()
    check_accessibility(page)
    screenshot(page, "onsite-phone-ru")

    page.get_by_label("Передать моё местоположение").check()
    page.get_by_role("button", name="Отметить приход").click()
    page.wait_for_url(re.compile(r"onsite=checked_in"))
    assert page.text_content("#onsite-notice") == "Вы отметили приход на объект."
    page.get_by_role("button", name="Отметить уход").wait_for()
    check_accessibility(page)
    screenshot(page, "onsite-checked-in-phone-ru")

    photo = page.get_by_label("Сделайте фото или выберите файлы")
    assert photo.get_attribute("capture") == "environment" and photo.get_attribute("accept") == "image/*"
    photo.set_input_files(files=[{"name": "controller.png", "mimeType": "image/png", "buffer": _png()}])
    page.get_by_role("button", name="Загрузить в папку заявки").click()
    page.wait_for_url(re.compile(r"onsite=uploaded"))
    link = page.get_by_role("link", name="controller.png")
    assert link.get_attribute("href") == f"/api/v1/tickets/{number}/files/controller.png"
    check_accessibility(page)
    screenshot(page, "onsite-photo-phone-ru")

    page.get_by_role("button", name="Отметить уход").click()
    page.wait_for_url(re.compile(r"onsite=checked_out"))
    assert page.text_content("#onsite-notice") == "Вы отметили уход; время на объекте записано."
    assert page.get_by_role("button", name="Отметить приход").is_visible()  # the task is open: another visit
    check_accessibility(page)
    screenshot(page, "onsite-checked-out-phone-ru")

    files = stack.call("GET", f"/tickets/{number}/files", as_="storage.l1").json()
    assert [(f["name"], f["size"]) for f in files] == [("controller.png", len(_png()))]
    assert [(e["kind"], e["source"], e["engineer"]) for e in _entries(stack, number)] == [
        ("onsite", "visit", "storage.l1")
    ]
    deadline = time.monotonic() + 10
    history = []
    while "checked_out" not in {e["kind"] for e in history} and time.monotonic() < deadline:
        history = stack.call("GET", f"/tickets/{number}/history?page_size=200", as_="admin").json()["items"]
    checked_in = next(e for e in history if e["kind"] == "checked_in")
    assert checked_in["detail"]["position"] is True  # the person allowed it, the browser gave it
    phone.close()
