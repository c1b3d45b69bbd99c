"""The managers' dashboard in a real browser: a ticket's clocks breach, a manager on a desktop in English sees the
breach on the dashboard and reviews it; on a phone in Russian the other breach of the ticket is reviewed after a
field error. Every page checked with axe-core and photographed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.auth.models import User
from service.context import Context
from service.db import transaction, utcnow
from service.sla.firing import run_due_event
from service.sla.models import BreachReview
from tests.browser.conftest import DESKTOP, PHONE, check_accessibility, open_context, screenshot
from tests.e2e.conftest import Stack
from tests.support.signin import PASSWORD, set_password
from tests.support.tickets import DEMO_TICKET

pytestmark = pytest.mark.e2e


def _manager(ctx: Context, *, language: str) -> None:
    set_password(ctx, "manager")
    with transaction(ctx.sessions) as session:
        user = session.scalar(select(User).where(User.username == "manager"))
        assert user is not None
        user.language = language


def _breach(ctx: Context) -> int:
    """Fire the ticket's due events as if two months had passed: its clocks breach and each opens a review."""
    later = utcnow() + timedelta(days=60)
    while run_due_event(ctx, now=later) is not None:
        pass
    with ctx.sessions() as session:
        return len(list(session.scalars(select(BreachReview.id).where(BreachReview.state == "open"))))


def _dashboard(ctx: Context, browser: Any, stack: Stack, *, device: dict[str, Any], locale: str) -> tuple[Any, Any]:
    """A browser context of the manager in the locale's language, signed in through the dashboard's address."""
    language = locale[:2]
    _manager(ctx, language=language)
    context = open_context(browser, stack.base, device=device, locale=locale)
    page = context.new_page()
    page.goto("/dashboard")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in" if language == "en" else "Войти").click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    return context, page


def test_a_manager_sees_a_breach_on_the_dashboard_and_reviews_it(stack: Stack, ctx: Context, browser: Any) -> None:
    number = stack.call("POST", "/tickets", as_="duty", json=DEMO_TICKET).json()["number"]
    stack.wait_for(number, lambda t: t["status"] == "clarifying")
    assert _breach(ctx) == 2  # reaction and resolution

    # On a desktop in English: the breach is at risk and waits for its review; the review is recorded.
    desk, page = _dashboard(ctx, browser, stack, device=DESKTOP, locale="en-US")
    risky = page.locator("#at-risk li", has_text=number)
    assert risky.count() == 2 and "breached" in risky.first.text_content()
    assert page.locator("svg[role=img] title").count() == 4
    check_accessibility(page)
    screenshot(page, "dashboard-desktop-en")
    page.get_by_role("link", name=f"Review the breach of {number}").first.click()
    page.wait_for_url(re.compile(r"/dashboard/reviews/\d+$"))
    check_accessibility(page)
    screenshot(page, "review-desktop-en")
    page.get_by_role("button", name="Take this review").click()
    page.wait_for_url(re.compile(r"/dashboard/reviews/\d+$"))
    assert "taken by manager" in page.text_content("#review-state")
    page.select_option("#reason", "capacity")
    page.fill("#comment", "Both storage engineers were on site elsewhere")
    page.get_by_role("button", name="Record the review").click()
    page.wait_for_url(re.compile(r"done=1"))
    assert page.text_content("[role=status]:not([hidden])") == "The review is recorded."
    assert page.text_content("#review-reason") == "Capacity"
    check_accessibility(page)
    screenshot(page, "review-done-desktop-en")

    # On a phone in Russian: the other breach, a field left empty first.
    phone, page = _dashboard(ctx, browser, stack, device=PHONE, locale="ru-RU")
    link = page.get_by_role("link", name=f"Разобрать нарушение по заявке {number}")
    assert link.count() == 1
    assert "Нехватка людей" in page.text_content("#reasons-table")
    check_accessibility(page)
    screenshot(page, "dashboard-phone-ru")
    link.click()
    page.wait_for_url(re.compile(r"/dashboard/reviews/\d+$"))
    page.select_option("#reason", "vendor_delay")
    page.get_by_role("button", name="Записать разбор").click()
    error = page.locator("#comment-error")
    error.wait_for()
    assert error.text_content() == "Опишите, что произошло."
    assert page.evaluate("document.activeElement.id") == "comment"
    check_accessibility(page)
    screenshot(page, "review-error-phone-ru")
    page.fill("#comment", "Ждали контроллер от вендора")
    page.get_by_role("button", name="Записать разбор").click()
    page.wait_for_url(re.compile(r"done=1"))
    assert page.text_content("[role=status]:not([hidden])") == "Разбор записан."
    page.get_by_role("link", name="Назад к сводке").click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    assert page.locator("#reviews").count() == 0
    check_accessibility(page)
    reviews = stack.call("GET", "/sla/reviews?state=completed", as_="manager").json()["items"]
    assert sorted(r["reason"] for r in reviews) == ["capacity", "vendor_delay"]
    for context in (desk, phone):
        context.close()
