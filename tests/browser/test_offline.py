"""The engineer's day offline, on a phone in English: "My work" and a task page opened online stay readable with no
connection (with the "offline" banner), the completion sent offline is kept and sent when the connection returns,
and the task is completed once. Signing out leaves none of the person's pages on the device.

Playwright's offline switch does not reach the service worker's own requests: `_connection` also cuts those (the
worker's requests are routed through the context when PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS is set, which
tests/browser/conftest.py does), so the worker meets a dropped connection as it would on a phone.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from service.context import Context
from tests.browser.conftest import PHONE, check_accessibility, open_context, screenshot
from tests.browser.test_field import CLARIFY
from tests.browser.test_workspace import _person, _sign_in, _task_id
from tests.e2e.conftest import Stack
from tests.support.tickets import DEMO_TICKET

pytestmark = pytest.mark.e2e


def _cut(route: Any) -> None:
    if route.request.service_worker is not None:
        route.abort("internetdisconnected")
    else:
        route.continue_()


def _connection(context: Any, *, up: bool) -> None:
    """Drop or bring back the connection, for the pages and for the service worker alike."""
    if up:
        context.unroute("**/*", _cut)
        context.set_offline(False)
    else:
        context.set_offline(True)
        context.route("**/*", _cut)


def _completions(stack: Stack, number: str, task_id: str) -> int:
    history = stack.call("GET", f"/tickets/{number}/history?page_size=200", as_="admin").json()["items"]
    return sum(1 for e in history if e["kind"] == "task_completed" and e["detail"].get("task_id") == task_id)


def test_the_day_s_tasks_are_read_and_completed_offline(stack: Stack, ctx: Context, browser: Any) -> None:
    number = stack.call("POST", "/tickets", as_="duty", json=DEMO_TICKET).json()["number"]
    clarify = _task_id(stack, number, "clarify", as_="duty")
    assert stack.call("POST", f"/tasks/{clarify}/complete", as_="duty", json={"data": CLARIFY}).status_code == 200
    resolve = _task_id(stack, number, "resolve", as_="storage.l1")
    _person(ctx, "storage.l1", language="en")

    # Online: sign in; once the service worker runs, "My work" is kept and so is each task page it lists.
    phone = open_context(browser, stack.base, device=PHONE, locale="en-US")
    page = phone.new_page()
    page.goto("/login?next=/")
    _sign_in(page, "storage.l1", button="Sign in")
    page.wait_for_url(re.compile(r"/$"))
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.reload()
    page.locator("#offline-kept").wait_for()
    assert page.locator("#offline-banner").is_hidden()
    check_accessibility(page)

    # Offline: My work and the task page (never opened: kept from My work's list) read from the device.
    _connection(phone, up=False)
    page.reload()
    page.locator("#offline-banner").wait_for()
    assert page.text_content("#offline-banner") == "Offline: this is the copy of the page kept on this device."
    page.get_by_role("link", name=re.compile(number)).click()
    page.wait_for_url(re.compile(f"/tasks/{resolve}$"))
    page.locator("#offline-banner").wait_for()
    assert number in page.text_content("h2#ticket-heading")
    page.reload()
    assert number in page.text_content("h2#ticket-heading")
    check_accessibility(page)
    screenshot(page, "offline-task-phone-en")

    # The completion sent offline is kept on the device; the task is still open on the server.
    page.select_option("#outcome", "solved")
    page.fill("#hours", "1.5")
    page.get_by_role("button", name="Complete this task").click()
    page.wait_for_url(re.compile(f"/tasks/{resolve}$"))
    page.locator("#offline-queued").wait_for()
    assert page.text_content("#offline-count") == "1"
    screenshot(page, "offline-queued-phone-en")
    assert stack.call("GET", f"/tasks/{resolve}", as_="admin").json()["state"] == "open"

    # Back online: the kept form is sent, the page shows where it led, the task is completed once.
    _connection(phone, up=True)
    page.wait_for_url(re.compile(r"completed="))
    assert f"Task of {number} completed." in page.text_content("[role=status]:not([hidden])")
    assert stack.call("GET", f"/tasks/{resolve}", as_="admin").json()["state"] == "completed"
    page.reload()  # another chance to send: nothing is left to send
    assert _completions(stack, number, resolve) == 1

    # Signing out leaves nothing of the person's on the device.
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(re.compile(r"/login"))
    assert page.evaluate(f"async () => (await caches.match('/tasks/{resolve}')) === undefined")
    assert page.evaluate("async () => (await caches.match('/')) === undefined")
    phone.close()
