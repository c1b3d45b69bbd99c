"""The ticket card in a real browser (desktop, English): its contract, payment, decisions, history and files
sections, checked with axe-core and photographed (`ticket-card-desktop-en`)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from service.auth.models import User
from service.context import Context
from service.db import transaction
from tests.browser.conftest import DESKTOP, check_accessibility, open_context, screenshot
from tests.e2e.conftest import Stack
from tests.support.signin import PASSWORD, set_password
from tests.support.tickets import DEMO_TICKET

pytestmark = pytest.mark.e2e


def test_the_task_page_shows_the_whole_ticket_card(stack: Stack, ctx: Context, browser: Any) -> None:
    number = stack.call("POST", "/tickets", as_="duty", json=DEMO_TICKET).json()["number"]
    stack.wait_for(number, lambda t: t["status"] == "clarifying")
    deadline = time.monotonic() + 30
    while not (found := stack.call("GET", f"/tasks?ticket={number}&name=clarify", as_="duty").json()["items"]):
        assert time.monotonic() < deadline, f"no clarify task for {number}"
        time.sleep(0.1)
    set_password(ctx, "duty")
    with transaction(ctx.sessions) as session:
        person = session.scalar(select(User).where(User.username == "duty"))
        assert person is not None
        person.language = "en"
    page = open_context(browser, stack.base, device=DESKTOP, locale="en-US").new_page()
    page.goto(f"/tasks/{found[0]['id']}")
    page.fill("input[name=username]", "duty")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#card-history-heading").wait_for()
    for heading in ("Contract", "Decisions", "History", "Files of the ticket"):
        assert page.get_by_role("heading", name=heading, exact=True).is_visible()
    assert "Ticket opened" in page.text_content("ol.history")
    assert page.get_by_role("button", name="Sign out everywhere").is_visible()
    check_accessibility(page)
    screenshot(page, "ticket-card-desktop-en")
